package wsload

import (
	"context"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/metrics"
)

// The capacity benchmark's set-up: capacityConns connections opened at an
// even pace over capacityRamp, each held for capacityHold, so that all are
// open at once from capacityRamp to capacityHold; messages sent at a total
// rate climbing the ladder until the round trip's p95 reaches capacityP95.
const (
	capacityConns = 10_000
	capacityRamp  = 10 * time.Second
	capacityHold  = 20 * time.Second
	capacityP95   = 100 * time.Millisecond
)

// capacityRates are the total message rates tried, per second, across all
// connections; between the last that held and the first that did not, two
// more are tried by halving.
var capacityRates = []float64{2_000, 5_000, 10_000, 20_000, 40_000, 80_000}

// BenchmarkWSCapacity holds 10,000 WebSocket connections at once against a
// minimal loopback echo server (gorilla/websocket, one goroutine per
// connection reading and writing back) in a child process, through the
// driver and the load executor exactly as a run does: a constant arrival
// rate of sessions (1,000 connections/s for 10 s), each held 20 s with
// messages at its share of the total rate, replies correlated by number.
// It climbs total message rates until the round trip's p95 — from each
// message's intended send time, over the 10 s when every connection is
// open — reaches 100 ms, and reports the connections the server saw open
// at once and the highest rate that kept p95 under 100 ms. Generator and
// server share the machine's cores, so the rate is a floor for the
// generator alone.
//
// Connections opened at an even pace spread the messages' send times
// evenly too; 10,000 connections opened at once would send in bursts of
// 10,000 (every connection's schedule starting together), measuring bursts,
// not a rate.
//
// The server runs in its own process (this test binary, re-executed) so
// that each side needs one descriptor per connection, not two in one
// process, and so that CPU use is each side's own.
//
// It runs the ladder once whatever b.N is (run it with -benchtime 1x);
// bench/ws.sh does, and prints the figures. It raises RLIMIT_NOFILE as far
// as it may.
func BenchmarkWSCapacity(b *testing.B) {
	raiseFileLimit(b, capacityConns+1000)
	srv := startEchoProcess(b)
	var best, worst float64
	var held int64
	try := func(rate float64) bool {
		lv := runCapacityLevel(b, srv, rate)
		held = max(held, lv.peak)
		ok := lv.p95 < capacityP95 && lv.peak >= capacityConns && lv.failed <= lv.sent/100
		b.Logf("rate %6.0f msgs/s: %5d connections held, %7d sent, %7d replies, rtt p50 %v p95 %v p99 %v, %d failed: %s",
			rate, lv.peak, lv.sent, lv.answered, lv.p50, lv.p95, lv.p99, lv.failed, map[bool]string{true: "holds", false: "over"}[ok])
		return ok
	}
	for _, rate := range capacityRates {
		if !try(rate) {
			worst = rate
			break
		}
		best = rate
	}
	for range 2 { // narrow the gap
		if worst == 0 || best == 0 {
			break
		}
		if mid := (best + worst) / 2; try(mid) {
			best = mid
		} else {
			worst = mid
		}
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

// runCapacityLevel opens capacityConns sessions over capacityRamp, sending
// rate messages/s in all, and measures the round trips of the messages
// intended while every connection was open.
func runCapacityLevel(b *testing.B, srv *echoProc, rate float64) capacityLevel {
	if err := srv.reset(context.Background()); err != nil {
		b.Fatal(err)
	}
	rec := metrics.NewRecorder(metrics.Config{})
	d, err := New(Config{Sink: rec})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	l, err := load.New([]load.Scenario{capacityScenario(srv.url, rate)}, load.Config{
		Drivers: map[load.Protocol]load.Driver{load.WS: d}, Sink: discard{}, Logger: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), capacityHold+2*time.Minute)
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
	_, peak, err := srv.stats(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	from := capacityHold // nothing measured unless every connection came up
	select {
	case from = <-up:
	default:
	}
	return measureLevel(rec, peak, from, capacityHold)
}

// capacityScenario opens capacityConns sessions to url at an even pace
// over capacityRamp, each holding capacityHold and sending its share of
// rate.
func capacityScenario(url string, rate float64) load.Scenario {
	perSecond := float64(capacityConns) / capacityRamp.Seconds()
	return load.Scenario{Name: "capacity", Executor: load.ConstantArrivalRate,
		Rate: perSecond, TimeUnit: time.Second, Duration: capacityRamp,
		PreAllocatedVUs: capacityConns, MaxVUs: capacityConns, GracefulStop: new(capacityHold + 30*time.Second),
		Steps: []load.Step{{Name: "hold", WS: &load.WSSession{URL: url,
			Send:   &load.WSSend{JSON: map[string]any{"type": "bench"}, Rate: rate / capacityConns},
			Expect: &load.WSExpect{JSON: &load.WSJSONMatch{Field: "seq"}, Timeout: 5 * time.Second},
			Hold:   capacityHold}}}}
}

// measureLevel reads the round trips of the messages intended in [from,
// to), and the counts of every message.
func measureLevel(rec *metrics.Recorder, peak int64, from, to time.Duration) capacityLevel {
	sent := metrics.Selector{Kind: load.KindWSMessage, Direction: load.DirectionSent}
	all := rec.Window(0, time.Hour, sent)
	lv := capacityLevel{peak: peak, sent: all.Ops, answered: all.Ops - all.Errors, failed: all.Errors, p95: time.Hour}
	if from >= to {
		return lv // nothing measured: no capacity
	}
	w := rec.Window(from, to, sent)
	if w.Latency.TotalCount() > 0 {
		q := w.Latency.ValueAtPercentiles([]float64{50, 95, 99})
		lv.p50, lv.p95, lv.p99 = metrics.Micros(q[50]), metrics.Micros(q[95]), metrics.Micros(q[99])
	}
	return lv
}

// discard is a Sink that keeps nothing (the step results of sessions).
type discard struct{}

func (discard) Record(*load.Result) {}

// notifyAt sends on up the load's clock reading once the server has n
// connections open at once (polled every 50 ms), or nothing if ctx ends
// first.
func (s *echoProc) notifyAt(ctx context.Context, n int64, l *load.Load, up chan<- time.Duration) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if open, _, err := s.stats(ctx); err == nil && open >= n {
			up <- l.Clock().Now()
			return
		}
	}
}

// raiseFileLimit raises RLIMIT_NOFILE to at least need: the soft limit to
// the hard one, and the hard one too when it is lower and the process may
// (root: CAP_SYS_RESOURCE). It skips the benchmark when that fails.
func raiseFileLimit(tb testing.TB, need uint64) {
	tb.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		tb.Fatal(err)
	}
	want := syscall.Rlimit{Cur: max(lim.Max, need), Max: max(lim.Max, need)}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
		tb.Skipf("RLIMIT_NOFILE is %d/%d, %d needed, and raising it failed (%v): raise it (ulimit -n)",
			lim.Cur, lim.Max, need, err)
	}
	tb.Logf("RLIMIT_NOFILE %d/%d raised to %d/%d", lim.Cur, lim.Max, want.Cur, want.Max)
}
