package load

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// driverFunc adapts a function to Driver.
type driverFunc func(ctx context.Context, vu *VU, step *Step, res *Result)

func (f driverFunc) Do(ctx context.Context, vu *VU, step *Step, res *Result) { f(ctx, vu, step, res) }

// serial makes d's calls one at a time (for drivers that note what they
// see in plain maps and slices); d must not wait on time, which a
// synctest bubble could not advance while others wait for the lock.
func serial(d Driver) Driver {
	var mu sync.Mutex
	return driverFunc(func(ctx context.Context, vu *VU, st *Step, res *Result) {
		mu.Lock()
		defer mu.Unlock()
		d.Do(ctx, vu, st, res)
	})
}

// nopDriver sends nothing and succeeds at once.
var nopDriver = driverFunc(func(ctx context.Context, vu *VU, _ *Step, res *Result) {
	res.Start = vu.Clock.Now()
	res.End = res.Start
})

// sleepDriver takes d per operation, or until ctx is done (then failing as a
// driver would, with ClassOf(ctx.Err())).
func sleepDriver(d time.Duration) Driver {
	return driverFunc(func(ctx context.Context, vu *VU, _ *Step, res *Result) {
		res.Start = vu.Clock.Now()
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			res.Err = ctx.Err()
			res.Class = ClassOf(res.Err)
		}
		res.End = vu.Clock.Now()
	})
}

// recorded is a Result with the clock reading when the sink got it.
type recorded struct {
	Result
	At time.Duration
}

// recorder is a Sink that keeps a copy of every result.
type recorder struct {
	clock Clock
	mu    sync.Mutex
	rs    []recorded
}

func (r *recorder) Record(res *Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rs = append(r.rs, recorded{*res, r.clock.Now()})
}

// results returns the results so far, ordered by intended time then step.
func (r *recorder) results() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	rs := slices.Clone(r.rs)
	slices.SortStableFunc(rs, func(a, b recorded) int {
		if a.Intended != b.Intended {
			return int(a.Intended - b.Intended)
		}
		return int(a.Start - b.Start)
	})
	return rs
}

// count returns how many results satisfy keep.
func (r *recorder) count(keep func(recorded) bool) int {
	n := 0
	for _, x := range r.results() {
		if keep(x) {
			n++
		}
	}
	return n
}

// step returns an http step (the test drivers never read the request).
func step(name string, think time.Duration) Step {
	return Step{Name: name, HTTP: &HTTPRequest{URL: "http://127.0.0.1:1/"}, Think: Think{think, think}}
}

// startLoad makes a Load over scenarios with one driver for HTTP steps and a
// recorder on a clock starting now (call it inside a synctest bubble for
// virtual time).
func startLoad(tb testing.TB, d Driver, scenarios ...Scenario) (*Load, *recorder) {
	tb.Helper()
	rec := &recorder{clock: Clock{Epoch: time.Now()}}
	l, err := New(scenarios, Config{
		Drivers: map[Protocol]Driver{HTTP: d}, Sink: rec, Seed: 1, Clock: rec.clock, Logger: zerolog.Nop(),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return l, rec
}

// run runs l and fails the test if it returns an error.
func run(tb testing.TB, l *Load) {
	tb.Helper()
	if err := l.Run(context.Background()); err != nil {
		tb.Fatalf("Run: %v", err)
	}
}
