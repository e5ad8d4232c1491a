package proxy_test

import (
	"bufio"
	"context"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/proxy"
)

// fakeWatch is a ConnWatch that holds Admit until released, treats a first
// line "NO" from the server as a refusal, and records the Closed calls.
type fakeWatch struct {
	admitting chan struct{} // a token per Admit call
	release   chan struct{} // closed: Admit returns

	mu     sync.Mutex
	closed []string
}

func newFakeWatch() *fakeWatch {
	return &fakeWatch{admitting: make(chan struct{}, 16), release: make(chan struct{})}
}

func (w *fakeWatch) Admit(ctx context.Context) {
	w.admitting <- struct{}{}
	select {
	case <-w.release:
	case <-ctx.Done():
	}
}

func (w *fakeWatch) Answer(b []byte) faults.ServerAnswer {
	switch {
	case len(b) < 2:
		return faults.Undecided
	case string(b[:2]) == "NO":
		return faults.NoSlot
	}
	return faults.Admitted
}

func (w *fakeWatch) Closed(upstream string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = append(w.closed, upstream)
}

func (w *fakeWatch) closedAddrs() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.closed)
}

// slotServer refuses a connection with "NO\n" while full is set, else
// echoes; it records each client's address in order.
type slotServer struct {
	*server
	full    atomic.Bool
	mu      sync.Mutex
	clients []string
}

func serveSlots(t *testing.T) *slotServer {
	s := &slotServer{}
	s.server = serveTCP(t, func(srv *server, c net.Conn) {
		s.mu.Lock()
		s.clients = append(s.clients, c.RemoteAddr().String())
		s.mu.Unlock()
		if s.full.Load() {
			c.Write([]byte("NO\n"))
			return
		}
		echo(srv, c)
	})
	return s
}

func (s *slotServer) accepted() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.clients)
}

// TestWatch: while a watch is on, a new connection is not dialled until the
// watcher admits it; the server's answer is counted (refused or admitted);
// a connection the server took is reported closed under the address the
// server saw, one it refused is not; after the watch's revert new
// connections are not held.
func TestWatch(t *testing.T) {
	up := serveSlots(t)
	p := startProxy(t, proxy.Config{Name: "watch", Upstream: up.Addr()})
	w := newFakeWatch()
	unwatch, err := p.Watch("full", faults.PoolExhaustionSpec{}, w)
	if err != nil {
		t.Fatal(err)
	}

	c := dial(t, p.Addr())
	<-w.admitting // the proxy is waiting for the watcher...
	if got := up.accepted(); len(got) != 0 {
		t.Fatalf("the upstream was dialled before the watcher admitted the connection: %v", got)
	}
	close(w.release) // ...and dials once it returns
	mustRoundTrip(t, c)
	c.Close()
	eventually(t, "the admitted connection reported closed", func() bool { return len(w.closedAddrs()) == 1 })
	if got, want := w.closedAddrs(), up.accepted(); !slices.Equal(got, want) {
		t.Errorf("closed %v, want the address the server saw: %v", got, want)
	}

	up.full.Store(true)
	r := dial(t, p.Addr())
	<-w.admitting
	r.SetReadDeadline(time.Now().Add(5 * time.Second))
	if line, err := bufio.NewReader(r).ReadString('\n'); line != "NO\n" {
		t.Fatalf("refused connection read %q, %v; want the server's NO", line, err)
	}
	r.Close()
	eventually(t, "the refused connection to end", func() bool { return p.Stats().Active == 0 })
	if got := w.closedAddrs(); len(got) != 1 {
		t.Errorf("closed %v: a connection the server refused held no slot and must not be reported", got)
	}
	st := p.Stats().Faults["full"]
	if st.Admissions != 2 || st.ServerRefused != 1 || st.ServerAdmitted != 1 || st.Kind != faults.PoolExhaustion || !st.Active {
		t.Errorf("stats %+v: want 2 admissions, 1 refused, 1 admitted, active", st)
	}

	if err := unwatch(context.Background()); err != nil {
		t.Fatal(err)
	}
	up.full.Store(false)
	mustRoundTrip(t, dial(t, p.Addr()))
	if n := len(w.admitting); n != 0 {
		t.Errorf("%d connections waited for a reverted watch", n)
	}
	if st := p.Stats().Faults["full"]; st.Active || st.Admissions != 2 {
		t.Errorf("stats after the revert %+v", st)
	}
}

// TestWatchSeesResetBeforeInjectReturns: a connection reset by a reset fault
// is reported closed to the watch before Inject returns, so a watcher
// learns of the slot about to free before any client can reconnect.
func TestWatchSeesResetBeforeInjectReturns(t *testing.T) {
	up := serveSlots(t)
	p := startProxy(t, proxy.Config{Name: "watch", Upstream: up.Addr()})
	mustRoundTrip(t, dial(t, p.Addr())) // opened before the watch
	w := newFakeWatch()
	close(w.release)
	unwatch, err := p.Watch("full", faults.PoolExhaustionSpec{}, w)
	if err != nil {
		t.Fatal(err)
	}
	defer unwatch(context.Background())
	undo, err := p.Inject(context.Background(), "reset", faults.ResetSpec{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	got := w.closedAddrs()
	undo(context.Background())
	if want := up.accepted(); !slices.Equal(got, want) {
		t.Errorf("closed when Inject returned: %v, want %v", got, want)
	}
	if !strings.HasPrefix(strings.Join(got, ""), "127.0.0.1:") {
		t.Errorf("closed %v: want loopback addresses", got)
	}
}
