package metrics

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chaosload/chaosload/load"
)

const ms = time.Millisecond

// result builds a result intended at at, sent lag later, lasting lat in all.
func result(at, lat time.Duration, class string) *load.Result {
	lag := lat / 10
	return &load.Result{Scenario: "shop", Step: "browse", Protocol: load.HTTP, Target: "api",
		Intended: at, Start: at + lag, End: at + lat, Class: class}
}

func tagged(res *load.Result, step, target string) *load.Result {
	res.Step, res.Target = step, target
	return res
}

func TestRecorderWindow(t *testing.T) {
	t.Parallel()
	r := NewRecorder(Config{})
	for _, res := range []*load.Result{
		result(0, 10*ms, ""),                                             // interval 0
		result(249*ms, 30*ms, ""),                                        // still interval 0
		result(250*ms, 20*ms, load.ClassTimeout),                         // interval 1
		result(600*ms, 5*time.Second, load.ClassTimeout),                 // interval 2, completes much later
		tagged(result(700*ms, 40*ms, load.ClassHTTP5xx), "order", "api"), // interval 2, other step
		result(900*ms, 0, load.ClassDropped),                             // interval 3: an op, an error, no latency
		result(-5*ms, 10*ms, ""),                                         // before the start: interval 0
	} {
		r.Record(res)
	}
	tests := []struct {
		name            string
		from, to        time.Duration
		sel             Selector
		ops, errs, lats int64
		span            time.Duration
		byClass         map[string]int64
	}{
		// everything, every interval
		{"all", 0, time.Second, Selector{}, 7, 4, 6, time.Second,
			map[string]int64{"timeout": 2, "http_5xx": 1, "dropped": 1}},
		// [0,250ms) holds interval 0 only
		{"first interval", 0, 250 * ms, Selector{}, 3, 0, 3, 250 * ms, nil},
		// a window starting mid-interval skips that interval
		{"unaligned from", 1 * ms, 500 * ms, Selector{}, 1, 1, 1, 250 * ms, map[string]int64{"timeout": 1}},
		// an unaligned end includes the interval starting before it
		{"unaligned to", 500 * ms, 501 * ms, Selector{}, 2, 2, 2, 250 * ms, map[string]int64{"timeout": 1, "http_5xx": 1}},
		// one class: the numerator of errors{class:timeout}
		{"class", 0, time.Second, Selector{Class: "timeout"}, 2, 2, 2, time.Second, map[string]int64{"timeout": 2}},
		// a tag narrows every count
		{"step", 0, time.Second, Selector{Step: "order"}, 1, 1, 1, time.Second, map[string]int64{"http_5xx": 1}},
		// an unknown tag value selects nothing, but the span is still the window
		{"no match", 0, time.Second, Selector{Target: "redis"}, 0, 0, 0, time.Second, nil},
		// an empty window
		{"empty", time.Second, time.Second, Selector{}, 0, 0, 0, 0, nil},
		// beyond the data: no ops, full span
		{"after the end", 10 * time.Second, 11 * time.Second, Selector{}, 0, 0, 0, time.Second, nil},
		// dropped arrivals count but have no latency
		{"dropped", 0, time.Second, Selector{Class: load.ClassDropped}, 1, 1, 0, time.Second, map[string]int64{"dropped": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := r.Window(tt.from, tt.to, tt.sel)
			if a.Ops != tt.ops || a.Errors != tt.errs || a.Latency.TotalCount() != tt.lats || a.Span != tt.span {
				t.Errorf("ops %d errors %d latencies %d span %v; want %d %d %d %v",
					a.Ops, a.Errors, a.Latency.TotalCount(), a.Span, tt.ops, tt.errs, tt.lats, tt.span)
			}
			if len(a.ByClass) != len(tt.byClass) {
				t.Errorf("by class %v, want %v", a.ByClass, tt.byClass)
			}
			for c, n := range tt.byClass {
				if a.ByClass[c] != n {
					t.Errorf("by class %v, want %v", a.ByClass, tt.byClass)
				}
			}
		})
	}
}

func TestRecorderErrorsOfOneClass(t *testing.T) {
	t.Parallel()
	r := NewRecorder(Config{Interval: 100 * ms})
	// 90 successes, 7 timeouts, 3 refused, on step browse; 50 5xx on step order.
	for i := range 100 {
		class := ""
		switch {
		case i < 7:
			class = load.ClassTimeout
		case i < 10:
			class = load.ClassConnRefused
		}
		r.Record(result(time.Duration(i)*ms, 10*ms, class))
		r.Record(tagged(result(time.Duration(i)*ms, 10*ms, load.ClassHTTP5xx), "order", "api"))
	}
	// errors{step:browse,class:timeout}: the class narrows the numerator only.
	sel := Selector{Step: "browse", Class: load.ClassTimeout}
	a := r.Window(0, time.Second, sel.WithoutClass())
	if a.Ops != 100 || a.ByClass[sel.Class] != 7 || a.Errors != 10 {
		t.Fatalf("ops %d, timeouts %d, errors %d; want 100, 7, 10", a.Ops, a.ByClass[sel.Class], a.Errors)
	}
	if got := r.Window(0, time.Second, sel).Latency.TotalCount(); got != 7 {
		t.Errorf("latency{class:timeout} has %d values, want 7", got)
	}
	if got := r.Window(0, time.Second, Selector{}).ErrorRate(); got != 0.55 { // (10 + 100) / 200
		t.Errorf("error rate %v, want 0.55", got)
	}
}

func TestRecorderEnd(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		interval time.Duration
		at       []time.Duration
		want     time.Duration
	}{
		// nothing recorded
		{"empty", 0, nil, 0},
		// the default interval, one result at 1s
		{"default", 0, []time.Duration{time.Second}, 1250 * ms},
		// a coarser interval than allowed is capped at 250ms
		{"capped", time.Second, []time.Duration{0}, 250 * ms},
		// results out of order: the latest counts
		{"out of order", 100 * ms, []time.Duration{950 * ms, 10 * ms}, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := NewRecorder(Config{Interval: tt.interval})
			for _, at := range tt.at {
				r.Record(result(at, ms, ""))
			}
			if got := r.End(); got != tt.want {
				t.Errorf("End() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRecorderIntervals(t *testing.T) {
	t.Parallel()
	r := NewRecorder(Config{Interval: 100 * ms})
	for i := range 100 {
		r.Record(result(10*ms, time.Duration(i+1)*ms, "")) // 1..100ms in interval 0
	}
	r.Record(result(250*ms, 7*ms, load.ClassTimeout)) // interval 2; interval 1 is empty
	got := r.Intervals()
	if len(got) != 3 {
		t.Fatalf("%d intervals, want 3", len(got))
	}
	near := func(d, want time.Duration) bool { return d >= want && d <= want+want/1000+time.Microsecond }
	if iv := got[0]; iv.Ops != 100 || iv.Errors != 0 || !near(iv.P50, 50*ms) || !near(iv.P95, 95*ms) || !near(iv.P99, 99*ms) {
		t.Errorf("interval 0 = %+v", iv)
	}
	if iv := got[1]; iv.T != 100*ms || iv.Ops != 0 || iv.P99 != 0 {
		t.Errorf("interval 1 = %+v, want empty at 100ms", iv)
	}
	if iv := got[2]; iv.T != 200*ms || iv.Errors != 1 || iv.ByClass["timeout"] != 1 || !near(iv.P50, 7*ms) {
		t.Errorf("interval 2 = %+v", iv)
	}
}

// TestPercentileAccuracy compares the recorder's percentiles with an exact
// sort: HDR with 3 significant digits is within 0.1% (+1µs of truncation).
func TestPercentileAccuracy(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	r := NewRecorder(Config{})
	var lats []time.Duration
	for i := range 20000 {
		lat := time.Duration(rng.ExpFloat64()*float64(20*ms)) + time.Duration(rng.IntN(1000))*time.Microsecond
		if i%100 == 0 {
			lat = time.Duration(1+rng.IntN(30)) * time.Second // a tail of timeouts
		}
		lats = append(lats, lat.Truncate(time.Microsecond))
		r.Record(result(time.Duration(i)*ms, lat, ""))
	}
	slices.Sort(lats)
	a := r.Window(0, time.Hour, Selector{})
	for _, p := range []float64{1, 50, 90, 95, 99, 99.9, 100} {
		exact := lats[max(0, int(float64(len(lats))*p/100+0.5)-1)]
		got := Micros(a.Latency.ValueAtQuantile(p))
		if diff := (got - exact).Abs(); float64(diff) > float64(exact)*0.001+float64(time.Microsecond) {
			t.Errorf("p(%v) = %v, exact %v: off by %v", p, got, exact, diff)
		}
	}
}

// TestRecorderConcurrent records from many goroutines while windows and
// intervals are read; run with -race.
func TestRecorderConcurrent(t *testing.T) {
	t.Parallel()
	r := NewRecorder(Config{})
	const writers, each = 8, 2000
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				res := result(time.Duration(i)*ms, 20*ms, []string{"", load.ClassTimeout}[i%2])
				res.Target = []string{"api", "postgres", "redis"}[w%3]
				r.Record(res)
			}
		})
	}
	wg.Go(func() {
		for range 50 {
			_ = r.Window(0, time.Hour, Selector{Class: load.ClassTimeout})
			_ = r.Intervals()
		}
	})
	wg.Wait()
	a := r.Window(0, time.Hour, Selector{})
	if a.Ops != writers*each || a.Errors != writers*each/2 || a.Latency.TotalCount() != writers*each {
		t.Errorf("ops %d errors %d latencies %d, want %d %d %d", a.Ops, a.Errors, a.Latency.TotalCount(),
			writers*each, writers*each/2, writers*each)
	}
}

func TestWindowInto(t *testing.T) {
	t.Parallel()
	r := NewRecorder(Config{})
	for i := range 10 {
		r.Record(result(time.Duration(i)*100*ms, time.Duration(i+1)*ms, []string{"", load.ClassTimeout}[i%2]))
	}
	// One aggregate reused across windows, with only a latency histogram.
	agg := Aggregate{Latency: NewHistogram()}
	tests := []struct {
		name     string
		from, to time.Duration
	}{
		{"all", 0, time.Second},                     // everything
		{"first half", 0, 500 * ms},                 // fewer: nothing left over from the last window
		{"empty", 5 * time.Second, 6 * time.Second}, // none at all
		{"second half", 500 * ms, time.Second},      // others
	}
	for _, tt := range tests { // in order: each reuses agg
		want := r.Window(tt.from, tt.to, Selector{})
		r.WindowInto(&agg, tt.from, tt.to, Selector{})
		if agg.ServiceTime != nil || agg.DispatchLag != nil {
			t.Fatalf("%s: histograms appeared", tt.name)
		}
		want.ServiceTime, want.DispatchLag = nil, nil
		if agg.Ops != want.Ops || agg.Errors != want.Errors || agg.ByClass["timeout"] != want.ByClass["timeout"] ||
			agg.Span != want.Span || !agg.Latency.Equals(want.Latency) {
			t.Errorf("%s: %+v, want %+v", tt.name, agg, want)
		}
	}
}
