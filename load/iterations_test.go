package load

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// TestPerVUIterations: each VU runs exactly Iterations iterations, numbered
// from 0, back to back (each intended at the previous one's end plus its
// think time), and Run returns when the last one ends.
func TestPerVUIterations(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := Scenario{Name: "n", Executor: PerVUIterations, VUs: 3, Iterations: 4, StartTime: time.Second,
			Steps: []Step{step("get", 50*time.Millisecond)}}
		l, rec := startLoad(t, sleepDriver(100*time.Millisecond), sc)
		run(t, l)
		rs := rec.results()
		if len(rs) != 12 {
			t.Fatalf("%d results, want 3 VUs × 4 iterations", len(rs))
		}
		for i, r := range rs {
			k := time.Duration(i / 3) // the k-th iteration of each VU
			if want := time.Second + k*150*time.Millisecond; r.Intended != want || !r.OK() {
				t.Errorf("result %d intended %v, want %v", i, r.Intended, want)
			}
		}
		if got := rec.clock.Now(); got != time.Second+4*150*time.Millisecond {
			t.Errorf("Run returned at %v, want 1.6s (no need to wait for maxDuration)", got)
		}
		if st := l.Stats(); st.Completed != 12 || st.Started != 12 {
			t.Errorf("stats %+v", st)
		}
	})
}

// TestPerVUIterationsNumbers: VU.Iteration counts each VU's iterations.
func TestPerVUIterationsNumbers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		seen := map[int][]int64{}
		d := driverFunc(func(_ context.Context, vu *VU, _ *Step, res *Result) {
			seen[vu.ID] = append(seen[vu.ID], vu.Iteration)
		})
		sc := Scenario{Name: "n", Executor: PerVUIterations, VUs: 2, Iterations: 3, Steps: []Step{step("get", 0)}}
		l, _ := startLoad(t, serial(d), sc)
		run(t, l)
		if len(seen) != 2 {
			t.Fatalf("VUs %v", seen)
		}
		for id, its := range seen {
			if !equal(its, []int64{0, 1, 2}) {
				t.Errorf("VU %d ran iterations %v, want 0 1 2", id, its)
			}
		}
	})
}

// TestIterationsCutByMaxDuration: no iteration starts after maxDuration;
// one running then gets gracefulStop, then is cut as a timeout.
func TestIterationsCutByMaxDuration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := Scenario{Name: "n", Executor: PerVUIterations, VUs: 1, Iterations: 100, MaxDuration: time.Second,
			GracefulStop: ptr(100 * time.Millisecond), Steps: []Step{step("get", 0)}}
		l, rec := startLoad(t, sleepDriver(300*time.Millisecond), sc)
		run(t, l)
		rs := rec.results()
		// iterations at 0, .3, .6, .9 (cut at 1.1s)
		if len(rs) != 4 || rs[3].Class != ClassTimeout || rs[3].End != 1100*time.Millisecond {
			t.Fatalf("results %+v, want 4, the last cut at 1.1s", rs)
		}
		if st := l.Stats(); st.Completed != 3 || st.Interrupted != 1 {
			t.Errorf("stats %+v", st)
		}
	})
}

// TestSharedIterations: Iterations in all, each number taken once, shared
// by the VUs: a faster VU takes more.
func TestSharedIterations(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var got []int64
		perVU := map[int]int{}
		var mu sync.Mutex
		d := driverFunc(func(ctx context.Context, vu *VU, st *Step, res *Result) {
			mu.Lock()
			got = append(got, vu.Iteration)
			perVU[vu.ID]++
			mu.Unlock()
			took := 100 * time.Millisecond
			if vu.ID == 1 {
				took = 25 * time.Millisecond // VU 1 is four times as fast
			}
			sleepDriver(took).Do(ctx, vu, st, res)
		})
		sc := Scenario{Name: "shared", Executor: SharedIterations, VUs: 2, Iterations: 10, Steps: []Step{step("get", 0)}}
		l, rec := startLoad(t, d, sc)
		run(t, l)
		slices.Sort(got)
		if !equal(got, []int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
			t.Fatalf("iterations %v, want 0…9 once each", got)
		}
		if perVU[1] != 8 || perVU[2] != 2 {
			t.Errorf("iterations per VU %v, want 8 and 2", perVU)
		}
		if got := rec.clock.Now(); got != 200*time.Millisecond {
			t.Errorf("Run returned at %v, want 0.2s", got)
		}
	})
}

// TestIterationsSpan: the span of the iteration executors is maxDuration
// (10m by default), an upper bound.
func TestIterationsSpan(t *testing.T) {
	t.Parallel()
	sc := Scenario{Executor: SharedIterations, StartTime: time.Second}
	if got := sc.Span(); got != time.Second+DefaultMaxDuration {
		t.Errorf("span %v, want 10m1s", got)
	}
	sc.MaxDuration = time.Minute
	if got := sc.Span(); got != time.Minute+time.Second {
		t.Errorf("span %v, want 1m1s", got)
	}
	if sc.OpenModel() || !(&Scenario{Executor: RampingArrivalRate}).OpenModel() {
		t.Error("OpenModel wrong")
	}
	r := Scenario{Executor: RampingArrivalRate, Stages: []Stage{{time.Second, 1}, {2 * time.Second, 5}}}
	if got := r.Span(); got != 3*time.Second {
		t.Errorf("ramping-arrival-rate span %v, want 3s", got)
	}
}
