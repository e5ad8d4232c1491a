package load

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

// TestConstantVUsLoop: each VU loops iterations back to back; an iteration
// is intended when the previous one's last step ended plus its think, and no
// iteration starts at or after Duration.
func TestConstantVUsLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := Scenario{Name: "closed", Executor: ConstantVUs, VUs: 2, Duration: time.Second,
			Steps: []Step{step("get", 150*time.Millisecond)}}
		l, rec := startLoad(t, sleepDriver(100*time.Millisecond), sc)
		run(t, l)
		rs := rec.results()
		if len(rs) != 8 {
			t.Fatalf("%d results, want 2 VUs × 4 iterations", len(rs))
		}
		for i, r := range rs {
			at := time.Duration(i/2) * 250 * time.Millisecond
			if r.Intended != at || r.Start != at || r.End != at+100*time.Millisecond {
				t.Errorf("result %d: %+v, want intended %v", i, r.Result, at)
			}
		}
		// the think after the last iteration is cut by the end of the duration
		if got := rec.clock.Now(); got != time.Second {
			t.Errorf("Run returned at %v, want 1s", got)
		}
		if s := l.Stats(); s.Completed != 8 || s.ActiveVUs != 0 {
			t.Errorf("stats %+v", s)
		}
	})
}

// TestFailedStepContinues: a failed step is recorded and the iteration goes
// on; the next step is intended at the failed one's end plus think.
func TestFailedStepContinues(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := driverFunc(func(ctx context.Context, vu *VU, st *Step, res *Result) {
			res.Start = vu.Clock.Now()
			time.Sleep(10 * time.Millisecond)
			if st.Name == "login" {
				res.Class, res.Status = ClassHTTP5xx, 500
			}
			res.End = vu.Clock.Now()
		})
		sc := Scenario{Name: "closed", Executor: ConstantVUs, VUs: 1, Duration: 50 * time.Millisecond,
			Steps: []Step{step("login", 5*time.Millisecond), step("browse", 0)}}
		l, rec := startLoad(t, d, sc)
		run(t, l)
		rs := rec.results()
		if len(rs) != 4 {
			t.Fatalf("%d results, want 2 iterations × 2 steps", len(rs))
		}
		want := []struct {
			step     string
			intended time.Duration
			class    string
		}{{"login", 0, ClassHTTP5xx}, {"browse", 15 * time.Millisecond, ""},
			{"login", 25 * time.Millisecond, ClassHTTP5xx}, {"browse", 40 * time.Millisecond, ""}}
		for i, w := range want {
			if r := rs[i]; r.Step != w.step || r.Intended != w.intended || r.Class != w.class {
				t.Errorf("result %d: %s at %v class %q, want %s at %v class %q",
					i, r.Step, r.Intended, r.Class, w.step, w.intended, w.class)
			}
		}
	})
}

// TestClosedModelMeasuresLag: when a VU is held up (here: a driver that
// only starts sending late, as a full connection pool would), the lag from
// the intended start shows in latency, not only in service time.
func TestClosedModelMeasuresLag(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := driverFunc(func(ctx context.Context, vu *VU, st *Step, res *Result) {
			time.Sleep(30 * time.Millisecond) // waiting for a connection
			res.Start = vu.Clock.Now()
			time.Sleep(5 * time.Millisecond)
			res.End = vu.Clock.Now()
		})
		sc := Scenario{Name: "closed", Executor: ConstantVUs, VUs: 1, Duration: 10 * time.Millisecond,
			Steps: []Step{step("get", 0)}}
		l, rec := startLoad(t, d, sc)
		run(t, l)
		r := rec.results()[0]
		if r.Latency() != 35*time.Millisecond || r.ServiceTime() != 5*time.Millisecond ||
			r.DispatchLag() != 30*time.Millisecond || r.GeneratorLag() != 0 {
			t.Errorf("latency %v service %v dispatch lag %v generator lag %v",
				r.Latency(), r.ServiceTime(), r.DispatchLag(), r.GeneratorLag())
		}
	})
}
