package demo

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chaosload/chaosload/balancer"
)

// TestHAProxyRoutesAroundADownReplica: haproxy round-robins over three
// demo service processes (each server counts a third of the requests on
// its stats socket), takes the one whose address stops accepting out of
// rotation (its stats and its log say DOWN; the requests go to the other
// two) and back in once it accepts again (UP).
func TestHAProxyRoutesAroundADownReplica(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	replicas := startReplicas(t, ctx, 3)
	g := newGate(t, replicas[1])
	// a check fails only when refused, never because the machine stalled
	h := startHAProxy(t, ctx, HAProxyConfig{Backends: []string{replicas[0], g.addr, replicas[2]},
		Interval: 100 * time.Millisecond, CheckTimeout: 30 * time.Second})
	c := newClient(t, h.Addr(), 30*time.Second)

	sendOK(t, c, 30)
	if got := sessions(t, h); !slices.Equal(got, []int64{10, 10, 10}) {
		t.Fatalf("sessions per server after 30 requests = %v, want [10 10 10]", got)
	}
	g.close()
	waitState(t, h, "r1", "DOWN")
	sendOK(t, c, 20)
	if got := sessions(t, h); !slices.Equal(got, []int64{20, 10, 20}) {
		t.Fatalf("sessions per server after 20 more with r1 down = %v, want [20 10 20]", got)
	}
	g.open(t)
	waitState(t, h, "r1", "UP")
	sendOK(t, c, 30)
	got := sessions(t, h)
	if got[0]+got[1]+got[2] != 80 || got[1] == 10 {
		t.Fatalf("sessions per server after 30 more with r1 back = %v, want 80 in all, r1 above 10", got)
	}
}

// startReplicas starts n demo service processes (their dependencies need
// not answer: /healthz still does), stopped at cleanup.
func startReplicas(t *testing.T, ctx context.Context, n int) []string {
	t.Helper()
	var addrs []string
	for range n {
		svc, err := StartServiceProcess(ctx, ServiceProcessConfig{Service: ServiceConfig{
			Postgres: "127.0.0.1:1", Redis: "127.0.0.1:1", Logger: testLogger(t),
		}})
		if err != nil {
			t.Fatalf("StartServiceProcess: %v", err)
		}
		t.Cleanup(func() { _ = svc.Close() })
		addrs = append(addrs, svc.Addr())
	}
	return addrs
}

// startHAProxy starts haproxy, skipping the test when it is not installed,
// and checks at cleanup that Close stopped it and removed its directory.
func startHAProxy(t *testing.T, ctx context.Context, cfg HAProxyConfig) *HAProxy {
	t.Helper()
	cfg.Logger = testLogger(t)
	h, err := StartHAProxy(ctx, cfg)
	skipIfNoHAProxy(t, err)
	if err != nil {
		t.Fatalf("StartHAProxy: %v", err)
	}
	t.Cleanup(func() {
		pid, dir := h.PID(), h.dir
		if err := h.Close(); err != nil {
			t.Errorf("close haproxy: %v", err)
		}
		processGone(t, pid)
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("haproxy's directory %s still there after Close", dir)
		}
	})
	return h
}

// sendOK sends n GET /healthz through c, one at a time, each answered 200.
func sendOK(t *testing.T, c *client, n int) {
	t.Helper()
	for i := range n {
		if r := c.get("/healthz"); r.err != nil || r.status != 200 {
			t.Fatalf("request %d of %d through haproxy: %v", i+1, n, r)
		}
	}
}

// sessions returns each server's session count, r0 first.
func sessions(t *testing.T, h *HAProxy) []int64 {
	t.Helper()
	st := haproxyStats(t, h)
	var out []int64
	for _, s := range st.Servers {
		out = append(out, s.Sessions)
	}
	return out
}

func haproxyStats(t *testing.T, h *HAProxy) balancer.Stats {
	t.Helper()
	st, err := h.Stats(context.Background())
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	return st
}

// waitState waits until the stats socket shows server in state and the
// log has said so.
func waitState(t *testing.T, h *HAProxy, server, state string) {
	t.Helper()
	waitFor(t, server+" "+state+" on the stats socket and in the log", func() bool {
		st := haproxyStats(t, h)
		logged := false
		for _, e := range st.Events {
			logged = e.Server == server && e.State == state // the last one counts
		}
		for _, s := range st.Servers {
			if s.Name == server {
				return logged && strings.HasPrefix(s.Status, state)
			}
		}
		return false
	})
}

// gate forwards connections on an address of its own to a target; closed,
// its address refuses connections and the ones it carried are cut;
// reopened, it listens on the same address again.
type gate struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        map[net.Conn]bool
	wg           sync.WaitGroup
}

func newGate(t *testing.T, target string) *gate {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{addr: ln.Addr().String(), target: target, conns: map[net.Conn]bool{}}
	g.serve(ln)
	t.Cleanup(g.close)
	return g
}

func (g *gate) serve(ln net.Listener) {
	g.mu.Lock()
	g.ln = ln
	g.mu.Unlock()
	g.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			g.wg.Go(func() { g.forward(c) })
		}
	})
}

func (g *gate) forward(c net.Conn) {
	up, err := net.Dial("tcp", g.target)
	if err != nil {
		_ = c.Close()
		return
	}
	g.mu.Lock()
	if g.ln == nil { // closed while this one dialled
		g.mu.Unlock()
		_, _ = c.Close(), up.Close()
		return
	}
	g.conns[c], g.conns[up] = true, true
	g.mu.Unlock()
	done := make(chan struct{})
	go func() { _, _ = io.Copy(up, c); _ = up.Close(); close(done) }()
	_, _ = io.Copy(c, up)
	_ = c.Close()
	<-done
	g.mu.Lock()
	delete(g.conns, c)
	delete(g.conns, up)
	g.mu.Unlock()
}

// close stops listening, cuts every connection and waits for the
// forwarders.
func (g *gate) close() {
	g.mu.Lock()
	if g.ln != nil {
		_ = g.ln.Close()
		g.ln = nil
	}
	for c := range g.conns {
		_ = c.Close()
	}
	g.mu.Unlock()
	g.wg.Wait()
}

// open listens on the gate's address again.
func (g *gate) open(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", g.addr)
	if err != nil {
		t.Fatalf("reopen the gate on %s: %v", g.addr, err)
	}
	g.serve(ln)
}

// TestHAProxyHTTPCheckSaysWhatItIs: haproxy's http health checks GET the
// check path with balancer.CheckUserAgent, so a count of the load's work
// at a replica can leave them out.
func TestHAProxyHTTPCheckSaysWhatItIs(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	checks := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case checks <- r.URL.Path + " " + r.UserAgent():
		default:
		}
	}))
	t.Cleanup(srv.Close)
	startHAProxy(t, ctx, HAProxyConfig{Backends: []string{srv.Listener.Addr().String()}, Interval: 100 * time.Millisecond})
	select {
	case got := <-checks:
		if want := "/healthz " + balancer.CheckUserAgent; got != want {
			t.Fatalf("health check %q, want %q", got, want)
		}
	case <-ctx.Done():
		t.Fatal("no health check in a minute: a hang")
	}
}
