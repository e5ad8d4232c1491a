package wsload

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// echoServerEnv, set in a re-executed test binary, makes TestMain run the
// echo server of BenchmarkWSCapacity instead of the tests.
const echoServerEnv = "CHAOSLOAD_WSLOAD_ECHO_SERVER"

// echoProc is the echo server child process, seen from the benchmark.
type echoProc struct {
	url  string // ws://addr/
	base string // http://addr
	hc   *http.Client
}

// startEchoProcess starts this test binary as the echo server; at cleanup
// it closes the child's stdin (the child then exits) and waits for it,
// killing it by its PID after 10 s.
func startEchoProcess(tb testing.TB) *echoProc {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), echoServerEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	tb.Cleanup(func() {
		stdin.Close()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if err != nil || !ok {
		tb.Fatalf("echo server did not start: %q %v", line, err)
	}
	return &echoProc{url: "ws://" + addr + "/", base: "http://" + addr, hc: &http.Client{Timeout: 5 * time.Second}}
}

// stats returns the connections open at the server now and the most open
// at once since the last reset.
func (p *echoProc) stats(ctx context.Context) (open, peak int64, err error) {
	resp, err := p.get(ctx, "/stats")
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	var s struct{ Open, Peak int64 }
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		return 0, 0, err
	}
	return s.Open, s.Peak, nil
}

// reset starts a new peak at the connections open now.
func (p *echoProc) reset(ctx context.Context) error {
	resp, err := p.get(ctx, "/reset")
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

func (p *echoProc) get(ctx context.Context, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+path, nil)
	if err != nil {
		return nil, err
	}
	return p.hc.Do(req)
}

// runEchoServer is the child: it serves WebSocket echo on a loopback port
// (printed as "listening ADDR" on stdout) and GET /stats, until its stdin
// closes; then it closes every connection and returns the exit code.
func runEchoServer() int {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil {
		lim.Cur = lim.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "echo server:", err)
		return 1
	}
	srv := &echoCounter{}
	hs := &http.Server{Handler: srv.handler()}
	done := make(chan struct{})
	go func() { defer close(done); _ = hs.Serve(ln) }()
	fmt.Printf("listening %s\n", ln.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent closes it
	_ = hs.Close()
	srv.closeAll()
	<-done
	srv.wg.Wait()
	return 0
}

// echoCounter echoes and counts the connections open, and the peak.
type echoCounter struct {
	open, peak atomic.Int64
	conns      sync.Map // *websocket.Conn → true
	wg         sync.WaitGroup
}

func (s *echoCounter) handler() http.Handler {
	up := websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 1024, WriteBufferPool: &sync.Pool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(struct{ Open, Peak int64 }{s.open.Load(), s.peak.Load()})
	})
	mux.HandleFunc("/reset", func(w http.ResponseWriter, r *http.Request) { s.peak.Store(s.open.Load()) })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		s.wg.Add(1)
		defer s.wg.Done()
		s.conns.Store(c, true)
		defer s.conns.Delete(c)
		defer c.Close()
		s.opened()
		defer s.open.Add(-1)
		echo(c)
	})
	return mux
}

// opened counts a connection open, and the peak.
func (s *echoCounter) opened() {
	n := s.open.Add(1)
	for {
		p := s.peak.Load()
		if n <= p || s.peak.CompareAndSwap(p, n) {
			return
		}
	}
}

func (s *echoCounter) closeAll() {
	s.conns.Range(func(c, _ any) bool { c.(*websocket.Conn).Close(); return true })
}
