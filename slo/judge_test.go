package slo

import (
	"strings"
	"testing"
	"time"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/metrics"
)

// shedding is db-exhaustion's graceful service: during the fault (40–70 s) it
// sheds 40% with fast 503s and serves the rest slowly; back at 73.5 s.
func shedding(t time.Duration) (time.Duration, string) {
	switch {
	case t >= 40*s && t < 70*s && (t/(5*ms))%5 < 2:
		return 2 * ms, load.ClassHTTP503
	case t >= 40*s && t < 73500*ms:
		return 300 * ms, ""
	}
	return 20 * ms, ""
}

// naive is a service that answers 500s during the fault and hangs after it.
func naive(t time.Duration) (time.Duration, string) {
	switch {
	case t >= 40*s && t < 70*s && (t/(5*ms))%5 < 2:
		return 2 * ms, load.ClassHTTP5xx
	case t >= 40*s:
		return 3 * s, ""
	}
	return 20 * ms, ""
}

func designSpec(tb testing.TB, faults ...FaultWindow) Spec {
	return Spec{
		Thresholds: steadyState(tb),
		Degradation: config.Thresholds{
			th(tb, "errors", "rate < 60%"),
			th(tb, "latency", "p(99) < 2s"),
			th(tb, "errors{class:http_5xx}", "count == 0"),
		},
		Timeline: Timeline{Warmup: 5 * s, LoadEnd: 120 * s, Faults: faults},
	}
}

func TestJudge(t *testing.T) {
	t.Parallel()
	exhaustion := FaultWindow{"pg-connections-exhausted", 40 * s, 70 * s}
	reset := FaultWindow{"drop-app-connections", 40 * s, 40 * s}
	type want struct{ phase, name, observed string } // a check expected to fail, or to be skipped
	tests := []struct {
		name    string
		p       profile
		faults  []FaultWindow
		passed  bool
		checks  int
		failed  []want
		skipped []want
	}{
		// the graceful service passes every check
		{"graceful", shedding, []FaultWindow{exhaustion, reset}, true, 8, nil, nil},
		// the naive one fails degradation (5xx) and recovery; steady is not judged
		{"naive", naive, []FaultWindow{exhaustion, reset}, false, 8,
			[]want{{PhaseFault, "errors{class:http_5xx}", "count = 2400"}, {PhaseFault, "latency", "p99 = 3s"},
				{PhaseRecovery, "recovery", "not recovered within 30s: latency p95 still 3s at +30s"}},
			[]want{{PhaseSteady, "latency", "no steady phase"}, {PhaseSteady, "errors", "no steady phase"}}},
		// no faults: only the baseline is judged
		{"no faults", steady, nil, true, 2, nil, nil},
		// a one-shot fault alone: degradation has no phase to be judged on
		{"one-shot only", steady, []FaultWindow{reset}, true, 8, nil,
			[]want{{PhaseFault, "errors", "one-shot"}, {PhaseFault, "latency", "one-shot"}, {PhaseFault, "errors{class:http_5xx}", "one-shot"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := Judge(recorder(span{0, 120 * s, 200, tt.p}), designSpec(t, tt.faults...))
			if v.Passed != tt.passed || len(v.Checks) != tt.checks {
				t.Errorf("passed %v with %d checks, want %v with %d:\n%s", v.Passed, len(v.Checks), tt.passed, tt.checks, dump(v))
			}
			if got := v.Failed(); len(got) != len(tt.failed) {
				t.Errorf("%d failed, want %d:\n%s", len(got), len(tt.failed), dump(v))
			}
			for _, w := range tt.failed {
				if c, ok := findCheck(v, w.phase, w.name); !ok || !c.Failed() || !strings.Contains(c.Observed, w.observed) {
					t.Errorf("want %s %s failed with %q:\n%s", w.phase, w.name, w.observed, dump(v))
				}
			}
			for _, w := range tt.skipped {
				if c, ok := findCheck(v, w.phase, w.name); !ok || !c.Skipped || !strings.Contains(c.Observed, w.observed) {
					t.Errorf("want %s %s skipped with %q:\n%s", w.phase, w.name, w.observed, dump(v))
				}
			}
		})
	}
}

// TestJudgeOrder checks the checks come in time order with their phases.
func TestJudgeOrder(t *testing.T) {
	t.Parallel()
	v := Judge(recorder(span{0, 120 * s, 200, shedding}), designSpec(t, FaultWindow{"f", 40 * s, 70 * s}))
	var got []string
	for _, c := range v.Checks {
		got = append(got, c.Phase+" "+c.Name+": "+c.Expression)
	}
	want := []string{
		"baseline latency: p(95) < 100ms", "baseline errors: rate < 1%",
		"fault errors: rate < 60%", "fault latency: p(99) < 2s", "fault errors{class:http_5xx}: count == 0",
		"recovery recovery: within 30s (hold 10s, window 5s)",
		"steady latency: p(95) < 100ms", "steady errors: rate < 1%",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("checks\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !v.Recovery.Passed() || v.Recovery.Time < 3250*ms || v.Recovery.Time > 3750*ms {
		t.Errorf("recovery %+v, want 3.5s ± one interval", v.Recovery)
	}
}

func findCheck(v Verdict, phase, name string) (Check, bool) {
	for _, c := range v.Checks {
		if c.Phase == phase && c.Name == name {
			return c, true
		}
	}
	return Check{}, false
}

func dump(v Verdict) string {
	var b strings.Builder
	for _, c := range v.Checks {
		b.WriteString("  " + phaseLabel(c) + " " + c.Name + " " + c.Expression + " → " + c.Observed)
		switch {
		case c.Skipped:
			b.WriteString(" (skipped)")
		case !c.Passed:
			b.WriteString(" (FAILED)")
		}
		b.WriteString("\n")
	}
	return b.String()
}

var _ Source = (*metrics.Recorder)(nil)

// TestJudgePhaseEdgesAlignToIntervals: a fault that starts and ends inside a
// recorder interval must not leak into the baseline or the steady phase.
// Results intended from 3.1 s to 6.1 s take 250 ms (mid-interval edges with
// 250 ms intervals); everything else 20 ms. Baseline and steady must see
// only fast results, the fault phase the slow ones.
func TestJudgePhaseEdgesAlignToIntervals(t *testing.T) {
	t.Parallel()
	slowDuring := func(t time.Duration) (time.Duration, string) {
		if t >= 3100*ms && t < 6100*ms {
			return 250 * ms, ""
		}
		return 20 * ms, ""
	}
	src := recorder(span{0, 12 * s, 200, slowDuring})
	v := Judge(src, Spec{
		Thresholds:  config.Thresholds{th(t, "latency", "p(95) < 100ms")},
		Degradation: config.Thresholds{th(t, "latency", "p(50) > 200ms")},
		Recovery:    config.Recovery{Within: 3 * s, Hold: s, Window: s},
		Timeline:    Timeline{Warmup: s, LoadEnd: 12 * s, Faults: []FaultWindow{{Name: "slow", Applied: 3100 * ms, Reverted: 6100 * ms}}},
	})
	for _, c := range v.Checks {
		if c.Skipped || !c.Passed {
			t.Errorf("%s %s %s: %s (passed %v, skipped %v)", c.Phase, c.Name, c.Expression, c.Observed, c.Passed, c.Skipped)
		}
	}
}
