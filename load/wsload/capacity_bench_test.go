package wsload

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"

	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/metrics"
)

// The capacity benchmark's set-up: capacityConns connections held at once,
// each for capacityHold, messages sent at a total rate climbing the
// ladder until the round trip's p95 reaches capacityP95.
const (
	capacityConns = 10_000
	capacityHold  = 12 * time.Second
	capacityP95   = 100 * time.Millisecond
)

// capacityRates are the total message rates tried, per second, across all
// connections.
var capacityRates = []float64{2_000, 5_000, 10_000, 20_000, 40_000}

// BenchmarkWSCapacity holds 10,000 WebSocket connections at once against a
// minimal loopback echo server in this process (one goroutine per
// connection reading and writing back; gorilla/websocket), through the
// driver and the load executor exactly as a run does (constant-vus, one
// session per VU, replies correlated by number), and climbs total message
// rates until the round trip's p95 — from each message's intended send
// time — reaches 100 ms. It reports the connections the server saw open at
// once and the highest rate that kept p95 under 100 ms. Generator and
// server share the machine's cores, so the rate is a floor for the
// generator alone.
//
// It runs the ladder once whatever b.N is (run it with -benchtime 1x);
// bench/ws.sh does, and prints the figures. It raises RLIMIT_NOFILE to its
// hard limit (it needs 2 descriptors per connection).
func BenchmarkWSCapacity(b *testing.B) {
	raiseFileLimit(b, 2*capacityConns+1000)
	srv := newEchoServer(b)
	var best float64
	var held int64
	for _, rate := range capacityRates {
		lv := runCapacityLevel(b, srv, rate)
		held = max(held, lv.peak)
		b.Logf("rate %6.0f msgs/s: %5d connections held, %7d sent, %7d replies, rtt p50 %v p95 %v p99 %v, %d failed",
			rate, lv.peak, lv.sent, lv.answered, lv.p50, lv.p95, lv.p99, lv.failed)
		if lv.p95 >= capacityP95 || lv.peak < capacityConns || lv.failed > lv.sent/100 {
			break
		}
		best = rate
	}
	b.ReportMetric(float64(held), "conns-held")
	b.ReportMetric(best, "msgs/s@p95<100ms")
}

// capacityLevel is what one rate did.
type capacityLevel struct {
	peak                   int64
	sent, answered, failed int64
	p50, p95, p99          time.Duration
}

// runCapacityLevel runs capacityConns sessions at once, at rate messages/s
// in all, and measures the round trips of the messages intended once every
// connection was up.
func runCapacityLevel(b *testing.B, srv *echoServer, rate float64) capacityLevel {
	srv.peak.Store(0)
	rec := metrics.NewRecorder(metrics.Config{})
	d, err := New(Config{Sink: rec})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	sc := load.Scenario{Name: "capacity", Executor: load.ConstantVUs, VUs: capacityConns, Duration: capacityHold,
		GracefulStop: new(30 * time.Second),
		Steps: []load.Step{{Name: "hold", WS: &load.WSSession{URL: srv.url,
			Send:   &load.WSSend{JSON: map[string]any{"type": "bench"}, Rate: rate / capacityConns},
			Expect: &load.WSExpect{JSON: &load.WSJSONMatch{Field: "seq"}, Timeout: 5 * time.Second},
			Hold:   capacityHold}}}}
	l, err := load.New([]load.Scenario{sc}, load.Config{Drivers: map[load.Protocol]load.Driver{load.WS: d},
		Sink: discard{}, Logger: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), capacityHold+time.Minute)
	defer cancel()
	watch, stopWatch := context.WithCancel(ctx)
	up := make(chan time.Duration, 1)
	var wg sync.WaitGroup
	wg.Go(func() { srv.notifyAt(watch, capacityConns, l, up) })
	err = l.Run(ctx)
	stopWatch()
	wg.Wait()
	if err != nil {
		b.Fatal(err)
	}
	from := capacityHold // none measured unless every connection came up
	select {
	case from = <-up:
	default:
	}
	return measureLevel(rec, srv.peak.Load(), from+time.Second)
}

// measureLevel reads the round trips of the messages intended from from on
// (the connection storm over), until the end of the hold.
func measureLevel(rec *metrics.Recorder, peak int64, from time.Duration) capacityLevel {
	sent := metrics.Selector{Kind: load.KindWSMessage, Direction: load.DirectionSent}
	all := rec.Window(0, time.Hour, sent)
	w := rec.Window(from, capacityHold, sent)
	lv := capacityLevel{peak: peak, sent: all.Ops, answered: all.Ops - all.Errors, failed: all.Errors}
	if w.Latency.TotalCount() > 0 {
		q := w.Latency.ValueAtPercentiles([]float64{50, 95, 99})
		lv.p50, lv.p95, lv.p99 = metrics.Micros(q[50]), metrics.Micros(q[95]), metrics.Micros(q[99])
	} else {
		lv.p95 = time.Hour // nothing measured: no capacity
	}
	return lv
}

// discard is a Sink that keeps nothing (the step results of sessions).
type discard struct{}

func (discard) Record(*load.Result) {}

// echoServer is a minimal WebSocket echo server counting the connections
// open at once.
type echoServer struct {
	url        string
	open, peak atomic.Int64
}

// newEchoServer starts an echo server on loopback, closed (connections
// included) when the benchmark ends.
func newEchoServer(tb testing.TB) *echoServer {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &echoServer{url: "ws://" + ln.Addr().String() + "/"}
	up := websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 1024, WriteBufferPool: &sync.Pool{}}
	var conns sync.Map
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		conns.Store(c, true)
		defer conns.Delete(c)
		defer c.Close()
		s.opened()
		defer s.open.Add(-1)
		echo(c)
	})}
	done := make(chan struct{})
	go func() { defer close(done); _ = hs.Serve(ln) }()
	tb.Cleanup(func() {
		_ = hs.Close()
		conns.Range(func(c, _ any) bool { c.(*websocket.Conn).Close(); return true })
		<-done
	})
	return s
}

// opened counts a connection open, and the peak.
func (s *echoServer) opened() {
	n := s.open.Add(1)
	for {
		p := s.peak.Load()
		if n <= p || s.peak.CompareAndSwap(p, n) {
			return
		}
	}
}

// notifyAt sends on up the load's clock reading once n connections are
// open at once (checked every 10 ms), or nothing if ctx ends first.
func (s *echoServer) notifyAt(ctx context.Context, n int64, l *load.Load, up chan<- time.Duration) {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if s.open.Load() >= n {
			up <- l.Clock().Now()
			return
		}
	}
}

// raiseFileLimit raises the soft RLIMIT_NOFILE to the hard limit, and
// fails when that is still below need.
func raiseFileLimit(tb testing.TB, need uint64) {
	tb.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		tb.Fatal(err)
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		tb.Fatal(err)
	}
	if lim.Cur < need {
		tb.Skip(fmt.Sprintf("RLIMIT_NOFILE hard limit %d < %d needed: raise it (ulimit -Hn)", lim.Cur, need))
	}
}
