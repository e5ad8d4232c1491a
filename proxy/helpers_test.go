package proxy_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/chaosload/chaosload/proxy"
)

func TestMain(m *testing.M) {
	if os.Getenv("CHAOSLOAD_TOXIPROXY_FREEZE") != "" {
		// The Toxiproxy demonstration deadlocks Toxiproxy on purpose; its
		// goroutines never end, so the leak check cannot hold in that mode.
		os.Exit(m.Run())
	}
	goleak.VerifyTestMain(m)
}

// startProxy starts a proxy with Run in the background; the cleanup cancels
// it and checks that Run returns.
func startProxy(tb testing.TB, cfg proxy.Config) *proxy.Proxy {
	tb.Helper()
	if os.Getenv("CHAOSLOAD_TEST_LOG") != "" {
		cfg.Logger = zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr}).Level(zerolog.DebugLevel)
	}
	p, err := proxy.Listen(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				tb.Errorf("Run: %v", err)
			}
		case <-time.After(hangLimit):
			tb.Errorf("Run has not returned %v after cancel: it hangs", hangLimit)
		}
	})
	return p
}

// server is a loopback TCP server for tests: one goroutine per connection
// running handle; Close (run by the test's cleanup) closes the listener and
// every connection and waits for the handlers.
type server struct {
	ln    net.Listener
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
	errs  chan error // read errors seen by handlers that report them
}

func serveTCP(tb testing.TB, handle func(s *server, c net.Conn)) *server {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &server{ln: ln, conns: map[net.Conn]struct{}{}, errs: make(chan error, 64)}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns[c] = struct{}{}
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer func() {
					s.mu.Lock()
					delete(s.conns, c)
					s.mu.Unlock()
					c.Close()
				}()
				handle(s, c)
			}()
		}
	}()
	tb.Cleanup(s.Close)
	return s
}

func (s *server) Addr() string { return s.ln.Addr().String() }

// Close stops the server and waits for every handler.
func (s *server) Close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// report records a handler's read error without ever blocking.
func (s *server) report(err error) {
	select {
	case s.errs <- err:
	default:
	}
}

// echo copies every byte back and half-closes when the client does.
func echo(s *server, c net.Conn) {
	_, err := io.Copy(c, c)
	if err != nil {
		s.report(err)
	}
	c.(*net.TCPConn).CloseWrite()
}

// floodOrEcho reads a mode byte: 'F' floods the client, anything else
// echoes what follows.
func floodOrEcho(s *server, c net.Conn) {
	var first [1]byte
	if _, err := io.ReadFull(c, first[:]); err != nil {
		return
	}
	if first[0] != 'F' {
		echo(s, c)
		return
	}
	chunk := make([]byte, 64<<10)
	for {
		if _, err := c.Write(chunk); err != nil {
			return
		}
	}
}

func dial(tb testing.TB, addr string) *net.TCPConn {
	tb.Helper()
	c, err := net.DialTimeout("tcp", addr, hangLimit)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}

// hangLimit bounds every wait of these tests for something that must
// happen: far beyond what it takes on any machine, however busy, it only
// turns a hang into a failure. No test asserts how fast something happens;
// the figures are printed by the benchmarks.
const hangLimit = 30 * time.Second

// roundTrip writes msg and reads it back (from an echo server) and returns
// how long that took; a round trip that has not ended within hangLimit
// fails.
func roundTrip(c net.Conn, msg []byte) (time.Duration, error) {
	start := time.Now()
	c.SetDeadline(start.Add(hangLimit))
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write(msg); err != nil {
		return 0, err
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		return 0, err
	}
	if string(got) != string(msg) {
		return 0, errors.New("echo returned other bytes")
	}
	return time.Since(start), nil
}

func mustRoundTrip(tb testing.TB, c net.Conn) time.Duration {
	tb.Helper()
	d, err := roundTrip(c, []byte("ping"))
	if err != nil {
		tb.Fatalf("round trip: %v", err)
	}
	return d
}

// eventually polls cond (a counter reached, a state entered) every 5 ms
// until it holds; hangLimit without it fails the test.
func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(hangLimit)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("after %v: %s", hangLimit, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// returns runs f and fails the test if f fails or has not returned within
// hangLimit (a hang), without waiting for it beyond that. It returns how
// long f took, for the log.
func returns(tb testing.TB, what string, f func() error) time.Duration {
	tb.Helper()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		if err != nil {
			tb.Fatalf("%s: %v", what, err)
		}
	case <-time.After(hangLimit):
		tb.Fatalf("%s has not returned after %v: it hangs", what, hangLimit)
	}
	return time.Since(start)
}

func median(ds []time.Duration) time.Duration { return quantile(ds, 0.5) }

func quantile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1)+0.5)]
}

// proxyGoroutines returns the stacks of the goroutines running code of package proxy (not of
// its tests).
func proxyGoroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var stacks []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "chaosload/chaosload/proxy.") {
			stacks = append(stacks, g)
		}
	}
	return stacks
}
