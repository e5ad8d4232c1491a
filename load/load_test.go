package load

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func TestNewRejects(t *testing.T) {
	t.Parallel()
	good := arrivalScenario(10, time.Second, 1, 1)
	tests := []struct {
		name string
		edit func(*Scenario)
		want string // in the error
	}{
		// an open model needs a positive rate
		{"zero rate", func(s *Scenario) { s.Rate = 0 }, "rate 0 must be a number > 0"},
		// NaN compares false with everything: rejected explicitly
		{"NaN rate", func(s *Scenario) { s.Rate = nan() }, "rate NaN"},
		// a rate beyond what one scheduler can pace
		{"huge rate", func(s *Scenario) { s.Rate = 1e7 }, "above the 1000000/s"},
		// no duration: nothing would run
		{"no duration", func(s *Scenario) { s.Duration = 0 }, "duration 0s must be > 0"},
		// maxVUs below preAllocatedVUs
		{"maxVUs", func(s *Scenario) { s.PreAllocatedVUs, s.MaxVUs = 5, 2 }, "maxVUs 2 must be >= 1 and >= preAllocatedVUs (5)"},
		// a step with no operation
		{"empty step", func(s *Scenario) { s.Steps = []Step{{Name: "x"}} }, "names no operation"},
		// no steps
		{"no steps", func(s *Scenario) { s.Steps = nil }, "has no steps"},
		// an executor we do not have
		{"executor", func(s *Scenario) { s.Executor = "externally-controlled" }, `executor "externally-controlled" is unknown`},
		// ramping-arrival-rate without stages
		{"no rate stages", func(s *Scenario) { s.Executor = RampingArrivalRate }, "ramping-arrival-rate needs stages"},
		// an arrival process we do not have
		{"arrival", func(s *Scenario) { s.Arrival = "bursty" }, `arrival "bursty" is unknown`},
		// shared-iterations with fewer iterations than VUs
		{"shared", func(s *Scenario) { s.Executor, s.VUs, s.Iterations = SharedIterations, 5, 2 }, "iterations 2 must be >= vus 5"},
		// per-vu-iterations with a negative count
		{"iterations", func(s *Scenario) { s.Executor, s.Iterations = PerVUIterations, -1 }, "iterations -1 must be >= 1"},
		// an extract with two sources
		{"extract", func(s *Scenario) {
			s.Steps[0].Extract = []Extract{{Name: "t", JSON: "a", Header: "b"}}
		}, "give exactly one of json, header, regex"},
		// a data file that does not exist
		{"data", func(s *Scenario) { s.Data = "/nonexistent/users.csv" }, "read data"},
		// ramping-vus without stages
		{"no stages", func(s *Scenario) { s.Executor = RampingVUs }, "ramping-vus needs stages"},
		// constant-vus with negative VUs
		{"negative vus", func(s *Scenario) { s.Executor, s.VUs = ConstantVUs, -1 }, "vus -1 must be >= 1"},
		// negative start time
		{"startTime", func(s *Scenario) { s.StartTime = -time.Second }, "startTime -1s is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sc := good
			sc.Steps = append([]Step(nil), good.Steps...)
			tt.edit(&sc)
			_, err := New([]Scenario{sc}, Config{Drivers: map[Protocol]Driver{HTTP: nopDriver}, Sink: &recorder{}})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), `scenario "open"`) {
				t.Fatalf("error %v, want one naming the scenario and saying %q", err, tt.want)
			}
		})
	}
}

func nan() float64 { z := 0.0; return z / z }

func TestNewRejectsConfig(t *testing.T) {
	t.Parallel()
	sc := arrivalScenario(10, time.Second, 1, 1)
	if _, err := New([]Scenario{sc}, Config{Drivers: map[Protocol]Driver{HTTP: nopDriver}}); err == nil {
		t.Error("a nil Sink should be refused")
	}
	if _, err := New([]Scenario{sc}, Config{Sink: &recorder{}}); err == nil || !strings.Contains(err.Error(), `no driver for protocol "http"`) {
		t.Errorf("error %v, want a missing driver named", err)
	}
	if _, err := New([]Scenario{sc, sc}, Config{Drivers: map[Protocol]Driver{HTTP: nopDriver}, Sink: &recorder{}}); err == nil ||
		!strings.Contains(err.Error(), "name used twice") {
		t.Errorf("error %v, want the duplicate named", err)
	}
}

// TestNewKeepsCallerScenarios: New copies what it runs, so a caller may
// change its scenarios afterwards.
func TestNewKeepsCallerScenarios(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := arrivalScenario(10, time.Second, 1, 1)
		l, rec := startLoad(t, nopDriver, sc)
		sc.Steps[0].Name = "changed"
		run(t, l)
		if n := rec.count(func(r recorded) bool { return r.Step == "get" }); n != 10 {
			t.Errorf("%d results of step get, want 10", n)
		}
	})
}

// TestScenariosRunInParallel: scenarios start at their own StartTime and Run
// waits for the longest.
func TestScenariosRunInParallel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := arrivalScenario(10, time.Second, 1, 1)
		b := Scenario{Name: "closed", Executor: ConstantVUs, VUs: 3, Duration: time.Second,
			StartTime: 500 * time.Millisecond, Steps: []Step{step("get", 100*time.Millisecond)}}
		l, rec := startLoad(t, nopDriver, a, b)
		run(t, l)
		if got := rec.clock.Now(); got != 1500*time.Millisecond {
			t.Errorf("Run returned at %v, want 1.5s", got)
		}
		first := map[string]time.Duration{}
		for _, r := range rec.results() {
			if _, ok := first[r.Scenario]; !ok {
				first[r.Scenario] = r.Intended
			}
		}
		if first["open"] != 0 || first["closed"] != 500*time.Millisecond {
			t.Errorf("first intended per scenario %v", first)
		}
		st := l.ScenarioStats()
		if st["open"].Ops != 10 || st["closed"].Ops != 30 || l.Stats().Ops != 40 {
			t.Errorf("stats %+v", st)
		}
	})
}

// TestFutureEpoch: an epoch in the future makes Run wait for it.
func TestFutureEpoch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		rec := &recorder{clock: Clock{Epoch: start.Add(time.Second)}}
		l, err := New([]Scenario{arrivalScenario(10, time.Second, 1, 1)},
			Config{Drivers: map[Protocol]Driver{HTTP: nopDriver}, Sink: rec, Clock: rec.clock})
		if err != nil {
			t.Fatal(err)
		}
		run(t, l)
		if rs := rec.results(); rs[0].Intended != 0 || rs[0].At != 0 {
			t.Errorf("first arrival %+v", rs[0])
		}
		if got := time.Since(start); got != 2*time.Second-100*time.Millisecond {
			t.Errorf("Run took %v, want 1.9s", got)
		}
	})
}
