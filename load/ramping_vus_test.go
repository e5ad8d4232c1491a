package load

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// TestRampingVUsReachesTargets: the VU count follows the stages, and each VU
// added by the ramp has its first iteration intended at the instant the
// ramp added it.
func TestRampingVUsReachesTargets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := time.Second
		sc := Scenario{Name: "ramp", Executor: RampingVUs, StartVUs: ptr(0),
			Stages:           []Stage{{10 * s, 10}, {10 * s, 10}, {10 * s, 0}},
			GracefulRampDown: ptr(time.Second),
			Steps:            []Step{step("get", 900*time.Millisecond)}}
		var mu sync.Mutex
		first := map[int]time.Duration{} // VU id → intended start of its first iteration
		d := driverFunc(func(ctx context.Context, vu *VU, st *Step, res *Result) {
			if vu.Iteration == 0 {
				mu.Lock()
				first[vu.ID] = res.Intended
				mu.Unlock()
			}
			sleepDriver(100*time.Millisecond).Do(ctx, vu, st, res)
		})
		l, _ := startLoad(t, d, sc)
		sampled := make(chan map[time.Duration]int64)
		go func() { // sample just after each instant of interest
			samples := map[time.Duration]int64{}
			for _, at := range []time.Duration{5 * s, 10 * s, 15 * s, 25 * s, 29 * s} {
				time.Sleep(at + time.Millisecond - elapsed(l))
				samples[at] = l.Stats().ActiveVUs
			}
			sampled <- samples
		}()
		run(t, l)
		samples := <-sampled
		want := map[time.Duration]int64{5 * s: 5, 10 * s: 10, 15 * s: 10, 25 * s: 5, 29 * s: 1}
		for at, n := range want {
			if samples[at] != n {
				t.Errorf("at %v: %d VUs, want %d", at, samples[at], n)
			}
		}
		if len(first) != 10 {
			t.Fatalf("%d VUs ran, want 10", len(first))
		}
		for id, at := range first {
			if at != time.Duration(id)*s { // VU k is the k-th added, at k seconds
				t.Errorf("VU %d first intended at %v, want %v", id, at, time.Duration(id)*s)
			}
		}
	})
}

// elapsed is the time since l's epoch.
func elapsed(l *Load) time.Duration { return l.Clock().Now() }

// TestGracefulRampDown: a VU ramped down finishes its running iteration
// within GracefulRampDown and is then cancelled (a timeout), while the
// scenario keeps running.
func TestGracefulRampDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := time.Second
		sc := Scenario{Name: "ramp", Executor: RampingVUs, StartVUs: ptr(2),
			Stages:           []Stage{{s, 2}, {0, 1}, {5 * s, 1}},
			GracefulRampDown: ptr(2 * time.Second), GracefulStop: ptr(time.Duration(0)),
			Steps: []Step{step("get", 0)}}
		l, rec := startLoad(t, sleepDriver(time.Hour), sc)
		run(t, l)
		rs := rec.results()
		if len(rs) != 2 {
			t.Fatalf("%d results, want 2", len(rs))
		}
		var ends []time.Duration
		for _, r := range rs {
			if r.Class != ClassTimeout {
				t.Errorf("result %+v, want a timeout", r.Result)
			}
			ends = append(ends, r.End)
		}
		// the ramped-down VU is cut at 1s + 2s; the other at the end (6s, no graceful stop)
		if !(ends[0] == 3*s && ends[1] == 6*s || ends[0] == 6*s && ends[1] == 3*s) {
			t.Errorf("cut at %v, want 3s and 6s", ends)
		}
	})
}
