package proxy_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/proxy"
)

// TestLatencyMeasuredByHTTPClient proves the latency fault by what net/http
// and the server see: GETs through the proxy to an httptest server on one
// keep-alive connection. A request and its response are one chunk each way,
// so a downstream fault holds each response (it reaches the client at least
// latency − jitter after the server sent it), an upstream one each request
// (it reaches the server at least that long after the client sent it), and
// both hold both: the fault counts one held chunk per GET, or two. How
// close the added delay comes to what was asked (p50, p99) is printed by
// BenchmarkLatencyAccuracy.
func TestLatencyMeasuredByHTTPClient(t *testing.T) {
	var legs legClock
	p, client, url := httpThroughProxy(t, legs.arrived)

	for _, tc := range latencyCases {
		t.Run(tc.name, func(t *testing.T) {
			revert := inject(t, p, "lat-"+tc.name, tc.spec)
			const n = 20
			least := tc.spec.Latency - tc.spec.Jitter
			for range n {
				up, down := legs.get(t, client, url)
				if held := tc.spec.Direction != faults.Downstream; held && up < least {
					t.Errorf("request reached the server %v after it was sent, want at least %v", up, least)
				}
				if held := tc.spec.Direction != faults.Upstream; held && down < least {
					t.Errorf("response reached the client %v after the server had it, want at least %v", down, least)
				}
			}
			revert()
			legsHeld := int64(1)
			if tc.spec.Direction == faults.Both {
				legsHeld = 2
			}
			if got := p.Stats().Faults["lat-"+tc.name].ChunksDelayed; got != n*legsHeld {
				t.Errorf("%d chunks held for %d GETs, want %d", got, n, n*legsHeld)
			}
		})
	}
	if st := p.Stats(); st.Accepted != 1 {
		t.Errorf("the client used %d connections, want 1 (keep-alive)", st.Accepted)
	}
}

// httpThroughProxy starts an HTTP server that answers "ok" (calling
// arrived first, when not nil) behind a proxy, and returns the proxy, a
// client that keeps one connection alive, and the URL through the proxy.
func httpThroughProxy(tb testing.TB, arrived func()) (*proxy.Proxy, *http.Client, string) {
	tb.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if arrived != nil {
			arrived()
		}
		io.WriteString(w, "ok")
	}))
	tb.Cleanup(srv.Close)
	p := startProxy(tb, proxy.Config{Name: "api", Upstream: srv.Listener.Addr().String(), Seed: 42})
	tr := &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}
	tb.Cleanup(tr.CloseIdleConnections)
	return p, &http.Client{Transport: tr, Timeout: hangLimit}, "http://" + p.Addr() + "/"
}

// latencyCases are the latency faults the HTTP client proves and the
// benchmark measures.
var latencyCases = []struct {
	name string
	spec faults.LatencySpec
}{
	// the default direction: the response is held, once per round trip.
	{"downstream", faults.LatencySpec{Latency: 10 * time.Millisecond, Direction: faults.Downstream}},
	// the request is held instead: also once per round trip.
	{"upstream", faults.LatencySpec{Latency: 10 * time.Millisecond, Direction: faults.Upstream}},
	// both ways: twice per round trip.
	{"both", faults.LatencySpec{Latency: 8 * time.Millisecond, Direction: faults.Both}},
	// jitter is uniform around the latency.
	{"downstream with jitter", faults.LatencySpec{Latency: 10 * time.Millisecond, Jitter: 4 * time.Millisecond,
		Direction: faults.Downstream}},
}

// legClock times the two legs of a GET: from the client's send to the
// server's handler (up) and from the handler to the client's end of the
// response (down). The server runs in the test process, so both ends read
// the same monotonic clock.
type legClock struct {
	mu      sync.Mutex
	handled time.Time
}

func (l *legClock) arrived() {
	l.mu.Lock()
	l.handled = time.Now()
	l.mu.Unlock()
}

// get does one GET and returns its two legs.
func (l *legClock) get(t *testing.T, client *http.Client, url string) (up, down time.Duration) {
	t.Helper()
	start := time.Now()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	end := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.handled.Sub(start), end.Sub(l.handled)
}

// getTimes does n GETs and returns each one's duration.
func getTimes(tb testing.TB, client *http.Client, url string, n int) []time.Duration {
	tb.Helper()
	ds := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		resp, err := client.Get(url)
		if err != nil {
			tb.Fatal(err)
		}
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			tb.Fatal(err)
		}
		ds = append(ds, time.Since(start))
	}
	return ds
}

// TestLatencyKeepsOrderAndPipelines checks that a latency stage hands
// chunks on in order whatever their jitter, each at least latency − jitter
// after it was written, and counts them. That it keeps reading while earlier
// chunks wait (20 messages arrive within about one delay, not twenty) is
// proven on virtual time by TestLatencyStageUnderVirtualTime; the time it
// took here is logged.
func TestLatencyKeepsOrderAndPipelines(t *testing.T) {
	up := serveTCP(t, echo)
	p := startProxy(t, proxy.Config{Name: "pipe", Upstream: up.Addr(), Seed: 7})
	c := dial(t, p.Addr())
	mustRoundTrip(t, c)
	revert, err := p.Inject(context.Background(), "lat", faults.LatencySpec{Latency: 50 * time.Millisecond,
		Jitter: 20 * time.Millisecond, Direction: faults.Upstream}, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer revert(context.Background())
	// 20 messages written back to back: each is delayed 30–70 ms from its
	// own read time, and they arrive in the order written whatever their
	// jitter.
	start := time.Now()
	const n = 20
	go func() {
		for i := range n {
			c.Write([]byte{byte('a' + i)})
			time.Sleep(time.Millisecond)
		}
	}()
	got := make([]byte, 0, n)
	c.SetReadDeadline(time.Now().Add(hangLimit))
	buf := make([]byte, n)
	for len(got) < n {
		k, err := c.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, buf[:k]...)
	}
	elapsed := time.Since(start)
	for i, b := range got {
		if b != byte('a'+i) {
			t.Fatalf("order lost: got %q", got)
		}
	}
	t.Logf("20 pipelined chunks took %v (about 70–100ms on an idle machine)", elapsed)
	if elapsed < 30*time.Millisecond {
		t.Errorf("20 chunks delayed 30–70 ms each arrived after %v, want at least 30ms", elapsed)
	}
	if st := p.Stats().Faults["lat"]; st.ChunksDelayed == 0 || st.InjectedDelay == 0 {
		t.Errorf("latency stats not counted: %+v", st)
	}
}
