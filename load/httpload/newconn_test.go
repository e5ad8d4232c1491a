package httpload

import (
	"context"
	"fmt"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chaosload/chaosload/load"
	"github.com/rs/zerolog"
)

// connCounter counts the connections a server accepted and closed.
type connCounter struct{ opened, closed atomic.Int64 }

func (c *connCounter) hook(_ net.Conn, s http.ConnState) {
	switch s {
	case http.StateNew:
		c.opened.Add(1)
	case http.StateClosed, http.StateHijacked:
		c.closed.Add(1)
	}
}

// waitClosed waits until the server has seen n connections close (30 s
// without it is a hang), and reports how many it saw.
func (c *connCounter) waitClosed(n int64) int64 {
	for deadline := time.Now().Add(30 * time.Second); c.closed.Load() < n && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	return c.closed.Load()
}

// runScenario runs sc with d and returns every result.
func runScenario(t *testing.T, d *Driver, sc load.Scenario) []load.Result {
	t.Helper()
	sink := &keeper{}
	l, err := load.New([]load.Scenario{sc}, load.Config{
		Drivers: map[load.Protocol]load.Driver{load.HTTP: d}, Sink: sink, Seed: 1, Logger: zerolog.Nop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := l.Run(ctx); err != nil {
		t.Fatal(err)
	}
	return sink.rs
}

// TestNewConnection: newConnection dials one connection per iteration,
// shared by the iteration's newConnection steps and closed when the
// iteration ends; NewConns counts it on the step that dialled. Without it,
// one pooled connection serves every iteration.
func TestNewConnection(t *testing.T) {
	t.Parallel()
	eachMode(t, modes, func(t *testing.T, m mode) {
		for _, perIteration := range []bool{true, false} {
			var cc connCounter
			srv := m.serve(t, func(w http.ResponseWriter, r *http.Request) {}, cc.hook)
			d := m.driver(t, Config{}, srv)
			steps := []load.Step{
				{Name: "a", HTTP: &load.HTTPRequest{URL: srv.URL + "/a", NewConnection: perIteration}},
				{Name: "b", HTTP: &load.HTTPRequest{URL: srv.URL + "/b", NewConnection: perIteration}},
			}
			rs := runScenario(t, d, load.Scenario{Name: "c", Executor: load.PerVUIterations, VUs: 1, Iterations: 3, Steps: steps})
			var dialled []int
			for _, r := range rs {
				if !r.OK() {
					t.Fatalf("failed: %v", r.Err)
				}
				dialled = append(dialled, r.NewConns)
			}
			want, opened := []int{1, 0, 1, 0, 1, 0}, int64(3)
			if !perIteration {
				want, opened = []int{1, 0, 0, 0, 0, 0}, 1
			}
			if !equalInts(dialled, want) || cc.opened.Load() != opened {
				t.Fatalf("newConnection %v: NewConns %v, server saw %d connections; want %v and %d",
					perIteration, dialled, cc.opened.Load(), want, opened)
			}
			if perIteration && cc.waitClosed(3) != 3 {
				t.Fatalf("%d of 3 per-iteration connections closed after the load", cc.closed.Load())
			}
		}
	})
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestStaleConnection: a pooled connection the server closed while it was
// idle is not a failure of the next request: a GET is retried on a new
// connection, a POST is never sent on it (the connection is checked first).
//
// net/http learns of the close from its connection's reader goroutine,
// whenever that goroutine runs; on a busy machine a POST taken before it
// ran goes out on the closed connection and fails (net/http never resends
// a POST). The test therefore waits, in net/http's mode, until the client's
// sockets have left CLOSE_WAIT (net/http closed them): what it checks is
// what each client does once it knows, never how fast it learns.
func TestStaleConnection(t *testing.T) {
	t.Parallel()
	for _, m := range plainModes {
		url, served, closed := closingServer(t)
		d := newDriver(t, Config{NetHTTP: m.netHTTP})
		for _, method := range []string{"GET", "GET", "POST", "POST"} {
			// The server has closed every connection it answered: on
			// loopback the FIN is taken in by the client's socket within
			// the server's close call.
			waitUntil(t, "the server closed its connections", func() bool { return closed.Load() == served.Load() })
			if m.netHTTP {
				waitUntil(t, "net/http to close its side", func() bool { return closeWait(t, url) == 0 })
			}
			r := do(d, newVU(), &load.Step{Name: method, HTTP: &load.HTTPRequest{Method: method, URL: url}})
			if !r.OK() || r.NewConns < 1 {
				t.Fatalf("%s %s on a stale connection: class %q (%v) new conns %d", m.name, method, r.Class, r.Err, r.NewConns)
			}
		}
		if served.Load() != 4 {
			t.Errorf("%s: server answered %d requests, want 4 (no request sent twice)", m.name, served.Load())
		}
	}
}

// TestStopInterruptsRequest: a stop that cancels the run (not a deadline)
// interrupts a request in flight at once; a stop whose cause is a deadline
// (a ramp-down bound) makes it a timeout.
func TestStopInterruptsRequest(t *testing.T) {
	t.Parallel()
	eachMode(t, modes, func(t *testing.T, m mode) {
		// The server answers after 30 s: a request the stop did not
		// interrupt would end then, as a success.
		srv := m.serve(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(30 * time.Second):
			}
		})
		d := m.driver(t, Config{}, srv)
		tests := []struct {
			cause error
			class string
		}{
			{context.Canceled, load.ClassOther},           // the run was cancelled
			{context.DeadlineExceeded, load.ClassTimeout}, // a bound passed
		}
		for _, tt := range tests {
			ctx, cancel := context.WithCancelCause(context.Background())
			vu := newVU()
			d.stateOf(vu) // the VU has run before: its watch is set on the first request
			time.AfterFunc(100*time.Millisecond, func() { cancel(tt.cause) })
			res := load.Result{Intended: vu.Clock.Now(), Start: -1, End: -1}
			d.Do(ctx, vu, get(srv.URL), &res)
			if res.Class != tt.class {
				t.Errorf("cause %v: class %q (%v) after %v, want %q", tt.cause, res.Class, res.Err, res.End-res.Intended, tt.class)
			}
		}
	})
}

// TestManyVUsShareThePool: concurrent VUs through a capped pool all get
// served, none holding more than the cap.
func TestManyVUsShareThePool(t *testing.T) {
	t.Parallel()
	var cc connCounter
	var mu sync.Mutex
	busy, peak := 0, 0
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		busy++
		peak = max(peak, busy)
		mu.Unlock()
		time.Sleep(time.Millisecond)
		mu.Lock()
		busy--
		mu.Unlock()
	}, cc.hook)
	d := newDriver(t, Config{MaxConnsPerHost: 4})
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range 32 {
		wg.Go(func() {
			vu := newVU()
			for range 20 {
				if r := do(d, vu, get(srv.URL)); !r.OK() {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if failed.Load() != 0 || peak > 4 || cc.opened.Load() > 4 {
		t.Fatalf("%d failed, %d served at once over %d connections; want 0 failures and at most 4", failed.Load(), peak, cc.opened.Load())
	}
}

// closeWait counts the IPv4 sockets of this machine in CLOSE_WAIT whose
// peer is the server of url (127.0.0.1:port): connections the server closed
// and the client has not closed yet (/proc/net/tcp, state 08).
func closeWait(t *testing.T, url string) int {
	t.Helper()
	u, err := neturl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Fatal(err)
	}
	peer := fmt.Sprintf("0100007F:%04X", port)
	n := 0
	for _, line := range strings.Split(string(b), "\n")[1:] {
		if f := strings.Fields(line); len(f) > 3 && f[2] == peer && f[3] == "08" {
			n++
		}
	}
	return n
}
