package metrics

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/chaosload/chaosload/load"
)

// feed records, for every interval of 250 ms in [from, to), n results of
// random latency and own lateness (from rng) across three series: two
// steps and an error class.
func feed(rs []*Recorder, rng *rand.Rand, from, to time.Duration, n int) int64 {
	var count int64
	for at := from; at < to; at += 250 * ms {
		for i := range n {
			res := result(at+time.Duration(rng.Int64N(int64(250*ms))), time.Duration(rng.Int64N(int64(400*ms)))+ms, "")
			res.Dispatched = res.Intended + time.Duration(rng.Int64N(int64(res.DispatchLag())+1)) // late up to the dispatch lag
			switch i % 3 {
			case 1:
				res.Step = "order"
			case 2:
				res.Class = load.ClassHTTP5xx
			}
			for _, r := range rs {
				r.Record(res)
			}
			count++
		}
	}
	return count
}

// TestRetainedIntervalsBounded drives eight hours of intervals through a
// recorder that keeps ten minutes at full resolution, compacting once a
// simulated second: the intervals it holds never exceed ten minutes' worth
// plus MaxPast, every hour, while every result stays counted.
func TestRetainedIntervalsBounded(t *testing.T) {
	t.Parallel()
	keep := Retention{Recent: 10 * time.Minute, Past: 10 * time.Second, MaxPast: 64}
	r := NewRecorder(Config{Keep: keep})
	bound := int(keep.Recent/r.Interval()) + keep.MaxPast
	rng := rand.New(rand.NewPCG(1, 2))
	var total int64
	for hour := range 8 {
		for s := range 3600 {
			at := time.Duration(hour)*time.Hour + time.Duration(s)*time.Second
			total += feed([]*Recorder{r}, rng, at, at+time.Second, 1)
			r.Compact()
		}
		if n := r.Retained(); n > bound {
			t.Fatalf("after hour %d: %d intervals retained, want at most %d", hour+1, n, bound)
		}
	}
	// 7h50m of past in at most 64 intervals: 10s doubled six times.
	if got, want := r.Step(), 640*time.Second; got != want {
		t.Errorf("past intervals of %v, want %v", got, want)
	}
	if a := r.Window(0, 8*time.Hour, Selector{}); a.Ops != total || a.Latency.TotalCount() != total {
		t.Errorf("window over the session: %d ops, %d latencies; recorded %d", a.Ops, a.Latency.TotalCount(), total)
	}
	if n := len(r.Intervals()); n != 45 { // 8h / 640s, rounded up
		t.Errorf("%d intervals in the series, want 45", n)
	}
}

// TestCompactIsExact feeds the same results to a recorder that keeps
// everything and to one that downsamples: every window aligned to the
// past's intervals, and every point of the series, is the same in both —
// counts and percentiles, since histograms merge bucket by bucket — as
// measured and without the generator's own lateness alike.
func TestCompactIsExact(t *testing.T) {
	t.Parallel()
	full := NewRecorder(Config{})
	small := NewRecorder(Config{Keep: Retention{Recent: time.Minute, Past: 5 * time.Second, MaxPast: 8}})
	rng := rand.New(rand.NewPCG(3, 4))
	for at := time.Duration(0); at < 5*time.Minute; at += time.Second {
		feed([]*Recorder{full, small}, rng, at, at+time.Second, 7)
		small.Compact()
	}
	step := small.Step()
	if step != 40*time.Second {
		t.Fatalf("past intervals of %v, want 40s (4 minutes in at most 8)", step)
	}
	// The lateness bit: without it, latency and dispatch lag are other
	// histograms, so a past that merged only the measured ones would differ.
	all, net := full.Window(0, 5*time.Minute, Selector{}), full.WithoutLateness().Window(0, 5*time.Minute, Selector{})
	if all.Latency.Equals(net.Latency) || all.DispatchLag.Equals(net.DispatchLag) {
		t.Fatal("the results fed carry no lateness")
	}
	for _, w := range []struct {
		name   string
		window func(r *Recorder, from, to time.Duration, sel Selector) Aggregate
	}{
		{"as measured", (*Recorder).Window},
		{"without lateness", func(r *Recorder, from, to time.Duration, sel Selector) Aggregate {
			return r.WithoutLateness().Window(from, to, sel)
		}},
	} {
		t.Run(w.name, func(t *testing.T) {
			for _, sel := range []Selector{{}, {Step: "order"}, {Class: load.ClassHTTP5xx}} {
				for from := time.Duration(0); from < 5*time.Minute; from += step {
					sameAggregate(t, w.window(full, from, from+step, sel), w.window(small, from, from+step, sel))
				}
				sameAggregate(t, w.window(full, 0, 5*time.Minute, sel), w.window(small, 0, 5*time.Minute, sel))
			}
			// A window inside a past interval takes that interval whole.
			sameAggregate(t, w.window(full, 40*time.Second, 80*time.Second, Selector{}), w.window(small, 50*time.Second, 60*time.Second, Selector{}))
		})
	}

	series := small.Intervals()
	for j, iv := range series {
		a := full.Window(iv.T, iv.T+step, Selector{})
		p := a.Latency.ValueAtPercentilesSlice(plotted)
		if iv.Ops != a.Ops || iv.Errors != a.Errors || iv.P50 != Micros(p[0]) || iv.P95 != Micros(p[1]) || iv.P99 != Micros(p[2]) {
			t.Errorf("interval %d (%v): %+v, want ops %d errors %d p50 %v p95 %v p99 %v",
				j, iv.T, iv, a.Ops, a.Errors, Micros(p[0]), Micros(p[1]), Micros(p[2]))
		}
	}
}

// sameAggregate fails unless a and b hold the same counts and histograms.
func sameAggregate(t *testing.T, a, b Aggregate) {
	t.Helper()
	if a.Ops != b.Ops || a.Errors != b.Errors || a.Conns != b.Conns || len(a.ByClass) != len(b.ByClass) {
		t.Fatalf("counts differ: %d/%d/%d %v vs %d/%d/%d %v", a.Ops, a.Errors, a.Conns, a.ByClass, b.Ops, b.Errors, b.Conns, b.ByClass)
	}
	if !a.Latency.Equals(b.Latency) || !a.ServiceTime.Equals(b.ServiceTime) || !a.DispatchLag.Equals(b.DispatchLag) {
		t.Fatalf("histograms differ: p99 %d vs %d", a.Latency.ValueAtQuantile(99), b.Latency.ValueAtQuantile(99))
	}
	if a.Span != b.Span {
		t.Fatalf("span %v vs %v", a.Span, b.Span)
	}
}

// TestRecordDuringCompact records from several goroutines, some results
// late (intended long before the newest, so in intervals being moved into
// the past or already there), while Compact runs: no result is lost.
func TestRecordDuringCompact(t *testing.T) {
	t.Parallel()
	r := NewRecorder(Config{Keep: Retention{Recent: 2 * time.Second, Past: time.Second, MaxPast: 4}})
	const writers, each = 4, 5000
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 9))
			for i := range each {
				at := time.Duration(i) * 10 * ms
				if i%5 == 0 { // late: up to 20 s before the newest
					at = max(0, at-time.Duration(rng.Int64N(int64(20*time.Second))))
				}
				r.Record(result(at, 5*ms, ""))
			}
		})
	}
	done := make(chan struct{})
	var compactions int
	go func() {
		defer close(done)
		for {
			r.Compact()
			compactions++
			if r.Window(0, time.Hour, Selector{}).Ops == writers*each {
				return
			}
		}
	}()
	wg.Wait()
	<-done
	if r.Step() == r.Interval() {
		t.Fatalf("nothing was compacted in %d compactions", compactions)
	}
	if a := r.Window(0, time.Hour, Selector{}); a.Ops != writers*each {
		t.Fatalf("%d results counted, %d recorded", a.Ops, writers*each)
	}
}

// TestLateResultLandsInThePast: a result intended in an interval already
// downsampled is counted there.
func TestLateResultLandsInThePast(t *testing.T) {
	t.Parallel()
	r := NewRecorder(Config{Keep: Retention{Recent: time.Second, Past: time.Second, MaxPast: 100}})
	for at := time.Duration(0); at < 10*time.Second; at += 250 * ms {
		r.Record(result(at, ms, ""))
	}
	r.Compact()
	if got := r.Step(); got != time.Second {
		t.Fatalf("step %v, want 1s", got)
	}
	r.Record(result(2100*ms, ms, load.ClassTimeout))
	a := r.Window(2*time.Second, 3*time.Second, Selector{})
	if a.Ops != 5 || a.ByClass[load.ClassTimeout] != 1 {
		t.Fatalf("past interval [2s,3s): %d ops %v, want 5 with one timeout", a.Ops, a.ByClass)
	}
}
