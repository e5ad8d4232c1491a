package wsload

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/chaosload/chaosload/load"
)

func TestMain(m *testing.M) {
	if os.Getenv(echoServerEnv) != "" { // BenchmarkWSCapacity's server, in its own process
		os.Exit(runEchoServer())
	}
	goleak.VerifyTestMain(m)
}

// keeper is a Sink that keeps a copy of every result.
type keeper struct {
	mu sync.Mutex
	rs []load.Result
}

func (k *keeper) Record(r *load.Result) {
	k.mu.Lock()
	k.rs = append(k.rs, *r)
	k.mu.Unlock()
}

// of returns the results of kind (and, for messages, direction), in the
// order recorded.
func (k *keeper) of(kind load.Kind, direction string) []load.Result {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []load.Result
	for _, r := range k.rs {
		if r.Kind == kind && r.Direction == direction {
			out = append(out, r)
		}
	}
	return out
}

// newDriver returns a Driver recording into a new keeper.
func newDriver(tb testing.TB) (*Driver, *keeper) {
	tb.Helper()
	k := &keeper{}
	d, err := New(Config{Sink: k})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(d.Close)
	return d, k
}

// wsServer starts a loopback WebSocket server running handle on each
// connection; when the test ends it closes every connection, then the
// server, and waits for the handlers.
func wsServer(tb testing.TB, handle func(c *websocket.Conn)) string {
	tb.Helper()
	var mu sync.Mutex
	var conns []*websocket.Conn
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
		defer c.Close()
		handle(c)
	}))
	tb.Cleanup(func() {
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		srv.Close()
	})
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/"
}

// echo sends every frame back.
func echo(c *websocket.Conn) {
	for {
		typ, b, err := c.ReadMessage()
		if err != nil {
			return
		}
		if c.WriteMessage(typ, b) != nil {
			return
		}
	}
}

// newVU returns a VU on a clock starting now.
func newVU() *load.VU {
	return &load.VU{ID: 1, Clock: load.Clock{Epoch: time.Now()}, State: map[any]any{}}
}

// do runs step once as an executor would and returns the step's result.
func do(tb testing.TB, d *Driver, step *load.Step) load.Result {
	tb.Helper()
	vu := newVU()
	res := load.Result{Scenario: "chat", Step: step.Name, Protocol: load.WS, Target: "api",
		Intended: vu.Clock.Now(), Start: -1, End: -1}
	res.Dispatched = res.Intended
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d.Do(ctx, vu, step, &res)
	return res
}

// wsStep is a ws step to url.
func wsStep(url string, send *load.WSSend, expect *load.WSExpect, hold time.Duration) *load.Step {
	return &load.Step{Name: "feed", WS: &load.WSSession{URL: url, Send: send, Expect: expect, Hold: hold}}
}

// latencies returns the latencies of rs, sorted.
func latencies(rs []load.Result) []time.Duration {
	out := make([]time.Duration, len(rs))
	for i := range rs {
		out[i] = rs[i].Latency()
	}
	slices.Sort(out)
	return out
}

// pct returns the nearest-rank q-th percentile (0 < q ≤ 1) of sorted ds.
func pct(ds []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(ds))+0.999999) - 1
	return ds[max(i, 0)]
}
