package runner

import (
	"testing"
	"time"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/load"
)

// TestSummarizeStress: capacity is the last level that held, the breaking
// point the first that failed, the operating point 80% of capacity with
// the p95 of the highest level run at or below it.
func TestSummarizeStress(t *testing.T) {
	t.Parallel()
	lv := func(level float64, passed bool, p95 float64) StressLevel {
		lv := StressLevel{Level: level, Passed: passed, P95MS: p95}
		if !passed {
			lv.Checks = []Check{{Name: "latency: p(95) < 100ms", Observed: "p95 = 340ms"}}
		}
		return lv
	}
	cases := []struct {
		name            string
		levels          []StressLevel
		capacity, broke float64 // 0: none
		opLevel, opAt   float64 // 0: no operating point / not measured
		opP95           float64
	}{
		// broke at 400: capacity 300, operating point 240 measured at 200
		{"breaks", []StressLevel{lv(100, true, 5), lv(200, true, 9), lv(300, true, 40), lv(400, false, 340)}, 300, 400, 240, 200, 9},
		// every level held: capacity is the last, no breaking point
		{"holds", []StressLevel{lv(100, true, 5), lv(200, true, 9)}, 200, 0, 160, 100, 5},
		// the first level broke: no capacity, no operating point
		{"first breaks", []StressLevel{lv(100, false, 500)}, 0, 100, 0, 0, 0},
		// capacity is the first level: 80% of it was never run
		{"capacity first", []StressLevel{lv(100, true, 5), lv(200, false, 500)}, 100, 200, 80, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res := &StressResult{Levels: c.levels}
			(&run{}).summarizeStress(res)
			if got := deref(res.Capacity); got != c.capacity {
				t.Errorf("capacity %v, want %v", got, c.capacity)
			}
			if got := deref(res.BreakingPoint); got != c.broke {
				t.Errorf("breaking point %v, want %v", got, c.broke)
			}
			if c.broke != 0 && (len(res.BrokenBy) != 1 || res.BrokenBy[0] != "latency: p(95) < 100ms (p95 = 340ms)") {
				t.Errorf("broken by %v", res.BrokenBy)
			}
			op := res.OperatingPoint
			switch {
			case c.opLevel == 0 && op != nil:
				t.Errorf("operating point %+v, want none", op)
			case c.opLevel != 0 && (op == nil || op.Level != c.opLevel || deref(op.MeasuredAt) != c.opAt || deref(op.P95MS) != c.opP95):
				t.Errorf("operating point %+v, want %v measured at %v (p95 %v)", op, c.opLevel, c.opAt, c.opP95)
			}
		})
	}
}

func deref(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

// TestLevelScenario: a level replaces the executor by a constant load at
// the level, from its start for its length, keeping the steps; a rate
// level's VUs are capped by stress.maxVUs, else the scenario's, else 4 ×
// the rate.
func TestLevelScenario(t *testing.T) {
	t.Parallel()
	steps := []load.Step{{Name: "get", HTTP: &load.HTTPRequest{URL: "http://x/"}}}
	base := load.Scenario{Name: "s", Executor: load.RampingVUs, Stages: []load.Stage{{Duration: time.Minute, Target: 10}},
		Steps: steps}
	exp := &config.Experiment{Scenarios: []load.Scenario{base}, Stress: &config.Stress{From: 10, Step: 10, To: 50, Every: 30 * time.Second}}
	r := &run{exp: exp}
	sc := r.levelScenario(30, time.Minute, 30*time.Second)
	if sc.Executor != load.ConstantVUs || sc.VUs != 30 || sc.StartTime != time.Minute || sc.Duration != 30*time.Second ||
		sc.Stages != nil || len(sc.Steps) != 1 || *sc.GracefulStop != stressGracefulStop {
		t.Fatalf("vus level: %+v", sc)
	}
	exp.Stress.Unit = config.StressRate
	sc = r.levelScenario(40, 0, time.Second)
	if sc.Executor != load.ConstantArrivalRate || sc.Rate != 40 || sc.TimeUnit != time.Second || sc.MaxVUs != 160 || sc.VUs != 0 {
		t.Fatalf("rate level: %+v", sc)
	}
	exp.Stress.MaxVUs = 25
	if sc = r.levelScenario(40, 0, time.Second); sc.MaxVUs != 25 || sc.PreAllocatedVUs > 25 {
		t.Fatalf("rate level with maxVUs: %+v", sc)
	}
}

// TestUndecidedCapacity: a failed minimum-capacity check is inconclusive
// when the level that broke broke only through the generator's own
// lateness; one that broke for real fails it, and a check that passed
// stands whatever broke above it.
func TestUndecidedCapacity(t *testing.T) {
	t.Parallel()
	flipped := Check{Name: "latency: p(95) < 100ms", Observed: "p95 = 117ms", Inconclusive: true,
		WithoutLateness: &Judgement{Observed: "p95 = 97.8ms", Passed: true}}
	broke := Check{Name: "latency: p(95) < 100ms", Observed: "p95 = 340ms", WithoutLateness: &Judgement{Observed: "p95 = 330ms"}}
	res := func(last StressLevel) *StressResult {
		return &StressResult{Levels: []StressLevel{{Level: 100, Passed: true}, last}, BreakingPoint: ptrTo(last.Level), Capacity: ptrTo(100.0)}
	}
	for _, tt := range []struct {
		name   string
		check  Check
		res    *StressResult
		failed bool
		incon  bool
	}{
		// capacity 100 < 200, level 200 broke only through the lateness
		{"undecided", Check{Passed: false, Observed: "capacity = 100"},
			res(StressLevel{Level: 200, Inconclusive: true, Checks: []Check{flipped}}), false, true},
		// level 200 broke for real: the check fails
		{"broke", Check{Passed: false, Observed: "capacity = 100"}, res(StressLevel{Level: 200, Checks: []Check{broke}}), true, false},
		// capacity 100 >= 100: passed, whatever broke at 200
		{"held", Check{Passed: true, Observed: "capacity = 100"},
			res(StressLevel{Level: 200, Inconclusive: true, Checks: []Check{flipped}}), false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := undecidedCapacity(tt.check, tt.res)
			if c.Failed() != tt.failed || c.Inconclusive != tt.incon {
				t.Fatalf("check %+v: failed %v inconclusive %v, want %v %v", c, c.Failed(), c.Inconclusive, tt.failed, tt.incon)
			}
			if tt.incon && c.Observed != "capacity = 100; level 200 broke only through the generator's own lateness (latency: p(95) < 100ms: p95 = 117ms with the lateness, p95 = 97.8ms without)" {
				t.Errorf("observed %q", c.Observed)
			}
		})
	}
}
