package load

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countSink counts results and keeps nothing.
type countSink struct{ n atomic.Int64 }

func (c *countSink) Record(*Result) { c.n.Add(1) }

// BenchmarkIteration measures the executor's own cost of one iteration of a
// one-step scenario (no-op driver, counting sink): result bookkeeping, think
// draw, counters.
func BenchmarkIteration(b *testing.B) {
	b.ReportAllocs()
	sc := Scenario{Name: "bench", Executor: ConstantVUs, VUs: 1, Duration: time.Hour,
		Steps: []Step{{Name: "get", HTTP: &HTTPRequest{}, Think: Think{0, 0}}}}
	l, err := New([]Scenario{sc}, Config{Drivers: map[Protocol]Driver{HTTP: nopDriver}, Sink: &countSink{}})
	if err != nil {
		b.Fatal(err)
	}
	s := l.runs[0]
	s.clock = Clock{Epoch: time.Now()}
	vu := s.newVU()
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		s.iterate(ctx, ctx, vu, s.clock.Now())
	}
}

// BenchmarkArrivalDispatch measures the open-model path per arrival once it
// is due: hand-off to an idle VU goroutine, the iteration (no-op driver), and
// the VU back to idle, with arrivals offered back to back (no pacing wait),
// faster than VU goroutines cycle, so many are dropped: made/s is the
// capacity of the path, dropped/op the share that found every VU busy.
func BenchmarkArrivalDispatch(b *testing.B) {
	b.ReportAllocs()
	sc := arrivalScenario(1000, time.Hour, 256, 256)
	l, err := New([]Scenario{sc}, Config{Drivers: map[Protocol]Driver{HTTP: nopDriver}, Sink: &countSink{}})
	if err != nil {
		b.Fatal(err)
	}
	s := l.runs[0]
	s.clock = Clock{Epoch: time.Now()}
	e := newArrivalRate(s)
	ctx := context.Background()
	for range sc.PreAllocatedVUs {
		e.idle <- e.spawn(ctx, ctx)
	}
	b.ResetTimer()
	for i := range b.N {
		e.dispatch(ctx, ctx, arrival{int64(i), s.clock.Now()})
	}
	for _, p := range e.pool {
		close(p.in)
	}
	e.wg.Wait()
	dropped := s.stats.dropped.Load()
	b.ReportMetric(float64(dropped)/float64(b.N), "dropped/op")
	b.ReportMetric(float64(int64(b.N)-dropped)/b.Elapsed().Seconds(), "made/s")
}

// lagSink keeps the generator lag of every result.
type lagSink struct {
	mu   sync.Mutex
	lags []time.Duration
}

func (s *lagSink) Record(r *Result) {
	s.mu.Lock()
	s.lags = append(s.lags, r.GeneratorLag())
	s.mu.Unlock()
}

// BenchmarkPacing5000 runs constant-arrival-rate at 5,000/s for 1 s per op
// (make bench-load runs -benchtime=20x: 20 s) and reports the generator lag
// (intended start → hand-off to the driver) at p50, p99 and max, and the
// achieved rate: with the schedule's precise final sleep (precise) and on
// the runtime's timer alone (timer). -count alternates the two.
func BenchmarkPacing5000(b *testing.B) {
	for _, precise := range []bool{true, false} {
		b.Run(map[bool]string{true: "precise", false: "timer"}[precise], func(b *testing.B) {
			defer func(old bool) { precisePacing = old }(precisePacing)
			precisePacing = precise
			benchPacing(b)
		})
	}
}

// benchPacing is one BenchmarkPacing5000 variant.
func benchPacing(b *testing.B) {
	sink := &lagSink{}
	for range b.N {
		sc := arrivalScenario(5000, time.Second, 50, 500)
		l, err := New([]Scenario{sc}, Config{Drivers: map[Protocol]Driver{HTTP: sleepDriver(time.Millisecond)}, Sink: sink})
		if err != nil {
			b.Fatal(err)
		}
		if err := l.Run(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	lags := sink.lags
	slices.Sort(lags)
	q := func(p float64) float64 { return float64(lags[int(p*float64(len(lags)-1))]) / 1e3 }
	b.ReportMetric(q(0.5), "lag-p50-µs")
	b.ReportMetric(q(0.99), "lag-p99-µs")
	b.ReportMetric(q(1), "lag-max-µs")
	b.ReportMetric(float64(len(lags))/float64(b.N), "arrivals/s")
}
