package metrics

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/chaosload/chaosload/load"
)

// randomResults returns n results over a minute with a mix of tags, classes
// and latencies, seeded.
func randomResults(seed uint64, n int) []*load.Result {
	rng := rand.New(rand.NewPCG(seed, seed))
	classes := []string{"", "", "", load.ClassTimeout, load.ClassHTTP503, load.ClassDropped}
	out := make([]*load.Result, n)
	for i := range out {
		at := time.Duration(rng.Int64N(int64(time.Minute)))
		lat := time.Duration(rng.ExpFloat64() * float64(30*time.Millisecond))
		res := result(at, lat, classes[rng.IntN(len(classes))])
		res.Dispatched = at + time.Duration(rng.Int64N(int64(lat/10)+1)) // own lateness up to the dispatch lag
		res.Step = []string{"browse", "order"}[rng.IntN(2)]
		res.Target = []string{"api", "postgres"}[rng.IntN(2)]
		out[i] = res
	}
	return out
}

func TestMergeExact(t *testing.T) {
	t.Parallel()
	all := randomResults(7, 20000)
	whole := NewRecorder(Config{})
	a, b := NewRecorder(Config{}), NewRecorder(Config{})
	for i, res := range all {
		whole.Record(res)
		if i%3 == 0 { // an uneven split, so series are interned in a different order
			a.Record(res)
		} else {
			b.Record(res)
		}
	}
	merged := NewRecorder(Config{})
	for _, part := range []*Recorder{b, a} {
		if err := merged.Merge(part); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name     string
		from, to time.Duration
		sel      Selector
	}{
		// the whole run
		{"all", 0, time.Minute, Selector{}},
		// a window in the middle
		{"window", 20 * time.Second, 25 * time.Second, Selector{}},
		// one step
		{"step", 0, time.Minute, Selector{Step: "order"}},
		// one class of one target
		{"class", 10 * time.Second, 50 * time.Second, Selector{Target: "postgres", Class: load.ClassTimeout}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want, got := whole.Window(tt.from, tt.to, tt.sel), merged.Window(tt.from, tt.to, tt.sel)
			assertAggregateEqual(t, got, want)
			want = whole.WithoutLateness().Window(tt.from, tt.to, tt.sel)
			got = merged.WithoutLateness().Window(tt.from, tt.to, tt.sel)
			assertAggregateEqual(t, got, want)
		})
	}
	if got, want := merged.End(), whole.End(); got != want {
		t.Errorf("End() = %v, want %v", got, want)
	}
	if got, want := len(merged.Intervals()), len(whole.Intervals()); got != want {
		t.Errorf("%d intervals, want %d", got, want)
	}
}

func assertAggregateEqual(t *testing.T, got, want Aggregate) {
	t.Helper()
	if got.Ops != want.Ops || got.Errors != want.Errors || got.Span != want.Span || len(got.ByClass) != len(want.ByClass) {
		t.Errorf("got ops %d errors %d span %v classes %v; want %d %d %v %v",
			got.Ops, got.Errors, got.Span, got.ByClass, want.Ops, want.Errors, want.Span, want.ByClass)
	}
	for c, n := range want.ByClass {
		if got.ByClass[c] != n {
			t.Errorf("class %s: %d, want %d", c, got.ByClass[c], n)
		}
	}
	if !got.Latency.Equals(want.Latency) || !got.ServiceTime.Equals(want.ServiceTime) || !got.DispatchLag.Equals(want.DispatchLag) {
		t.Errorf("histograms differ")
	}
}

func TestMergeRefuses(t *testing.T) {
	t.Parallel()
	r := NewRecorder(Config{})
	tests := []struct {
		name  string
		other *Recorder
	}{
		// intervals must agree for a merge to be exact
		{"other interval", NewRecorder(Config{Interval: 100 * time.Millisecond})},
		// a recorder merged into itself would double its counts
		{"itself", r},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := r.Merge(tt.other); err == nil {
				t.Error("Merge succeeded, want an error")
			}
		})
	}
}

// TestMergeBothWays merges two live recorders into each other at once:
// with -race, and without deadlock.
func TestMergeBothWays(t *testing.T) {
	t.Parallel()
	a, b := NewRecorder(Config{}), NewRecorder(Config{})
	for _, res := range randomResults(3, 2000) {
		a.Record(res)
		b.Record(res)
	}
	var wg sync.WaitGroup
	wg.Go(func() { _ = a.Merge(b) })
	wg.Go(func() { _ = b.Merge(a) })
	wg.Wait()
	if a.Window(0, time.Hour, Selector{}).Ops < 4000 || b.Window(0, time.Hour, Selector{}).Ops < 4000 {
		t.Error("a merge lost results")
	}
}
