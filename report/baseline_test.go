package report

import (
	"math"
	"testing"

	"github.com/chaosload/chaosload/runner"
)

func findChange(t *testing.T, c *runner.Comparison, metric, phase string) runner.MetricChange {
	t.Helper()
	for _, m := range c.Metrics {
		if m.Metric == metric && m.Phase == phase {
			return m
		}
	}
	t.Fatalf("no %s/%s in %+v", metric, phase, c.Metrics)
	return runner.MetricChange{}
}

func TestCompare(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		change    func(o *runner.Outcome)
		metric    string
		phase     string
		regressed bool
		skipped   bool
		delta     float64 // expected Change (NaN: nil)
	}{
		// the same run compared with itself holds
		{"same p95", func(*runner.Outcome) {}, MetricP95, "steady #1", false, false, 0},
		// p95 30% slower in the fault phase (48 → 62.4 ms): beyond 10% and 5 ms
		{"p95 +30%", func(o *runner.Outcome) { o.Phases[2].P95MS *= 1.3 }, MetricP95, "fault #1", true, false, 0.3},
		// p95 doubled at 1.5 ms (3 ms): beyond 10% but within 5 ms, a busy
		// machine's noise, not a regression
		{"p95 +1.5ms", func(o *runner.Outcome) { o.Phases[4].P95MS *= 2 }, MetricP95, "steady #1", false, false, 1},
		// p95 exactly 10% slower: at the bound, not beyond it
		{"p95 +10%", func(o *runner.Outcome) { o.Phases[2].P95MS *= 1.1 }, MetricP95, "fault #1", false, false, 0.1},
		// p95 faster is an improvement
		{"p95 -30%", func(o *runner.Outcome) { o.Phases[1].P95MS *= 0.7 }, MetricP95, "baseline", false, false, -0.3},
		// throughput 15% lower: beyond 10%
		{"throughput -15%", func(o *runner.Outcome) { o.Phases[4].OKPerS *= 0.85 }, MetricThroughput, "steady #1", true, false, 0.15},
		// throughput higher is an improvement
		{"throughput +5%", func(o *runner.Outcome) { o.Phases[4].OKPerS *= 1.05 }, MetricThroughput, "steady #1", false, false, -0.05},
		// a phase with fewer than MinCompareOps operations is not compared, however slow
		{"few ops", func(o *runner.Outcome) { o.Phases[3].Ops, o.Phases[3].P95MS = 20, 900 }, MetricP95, "recovery #1", false, true, math.NaN()},
		// recovery 0.5s → 0.7s: 40% worse but within one interval (0.25s) of resolution
		{"recovery within resolution", func(o *runner.Outcome) { o.Recovery.MeasuredS = f64(0.7) }, MetricRecovery, "episode 1", false, false, 0.4},
		// recovery 0.5s → 1.0s: beyond 10% plus one interval
		{"recovery later", func(o *runner.Outcome) { o.Recovery.MeasuredS = f64(1.0) }, MetricRecovery, "episode 1", true, false, 1},
		// not recovered now, recovered in the baseline
		{"not recovered", func(o *runner.Outcome) { o.Recovery.MeasuredS, o.Recovery.Passed = nil, false }, MetricRecovery, "episode 1", true, false, math.NaN()},
		// a phase the baseline lacks is reported, not compared
		{"new phase", func(o *runner.Outcome) { o.Phases[1].Name = "extra" }, MetricP95, "extra", false, true, math.NaN()},
		// phases match by episode: the baseline has no second episode
		{"other episode", func(o *runner.Outcome) { o.Phases[2].Episode = 2 }, MetricP95, "fault #2", false, true, math.NaN()},
		// a result saved before episodes: its recovery is compared with the run's own
		{"no episodes", func(o *runner.Outcome) { o.Episodes = nil; o.Recovery.MeasuredS = f64(1.0) }, MetricRecovery, "", true, false, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cur, base := passedOutcome(), passedOutcome()
			tc.change(cur)
			c := Compare(cur, base, "base.json", 0.10)
			m := findChange(t, c, tc.metric, tc.phase)
			if m.Regressed != tc.regressed || m.Skipped != tc.skipped {
				t.Fatalf("%+v: regressed %v skipped %v, want %v %v", m, m.Regressed, m.Skipped, tc.regressed, tc.skipped)
			}
			switch {
			case math.IsNaN(tc.delta) && m.Change != nil:
				t.Errorf("change %v, want none", *m.Change)
			case !math.IsNaN(tc.delta) && (m.Change == nil || math.Abs(*m.Change-tc.delta) > 1e-9):
				t.Errorf("change %v, want %v", m.Change, tc.delta)
			}
			if c.Passed == tc.regressed {
				t.Errorf("comparison passed = %v with a metric regressed = %v", c.Passed, tc.regressed)
			}
		})
	}
}

// TestCompareBaselineBeforeEpisodes: a baseline saved before fault episodes
// had one fault, recovery and steady phase; they compare with episode 1's.
func TestCompareBaselineBeforeEpisodes(t *testing.T) {
	t.Parallel()
	cur, base := passedOutcome(), passedOutcome()
	base.Episodes = nil
	for i := range base.Phases {
		base.Phases[i].Episode = 0
	}
	cur.Phases[2].P95MS *= 1.3
	c := Compare(cur, base, "old.json", 0.10)
	if m := findChange(t, c, MetricP95, "fault #1"); !m.Regressed || m.Skipped {
		t.Errorf("fault #1 p95 %+v, want compared with the old fault phase and regressed", m)
	}
	if m := findChange(t, c, MetricP95, "steady #1"); m.Regressed || m.Skipped {
		t.Errorf("steady #1 p95 %+v, want compared and held", m)
	}
	if m := findChange(t, c, MetricRecovery, ""); m.Regressed || m.Skipped {
		t.Errorf("recovery %+v, want the run's own compared", m)
	}
	if base.Phases[2].Episode != 0 {
		t.Errorf("Compare changed the baseline it was given")
	}
}

// TestCompareGate: a regression fails a passed run (exit 1), and leaves
// another verdict alone.
func TestCompareGate(t *testing.T) {
	t.Parallel()
	cur, base := passedOutcome(), passedOutcome()
	cur.Phases[4].P95MS += 10
	cur.Compare(Compare(cur, base, "base.json", 0.10))
	if cur.Verdict != runner.Failed || cur.Passed {
		t.Fatalf("verdict %s passed %v after a regression, want failed", cur.Verdict, cur.Passed)
	}
	aborted := passedOutcome()
	aborted.Verdict, aborted.Passed = runner.Aborted, false
	aborted.Phases[4].P95MS += 10
	aborted.Compare(Compare(aborted, base, "base.json", 0.10))
	if aborted.Verdict != runner.Aborted {
		t.Fatalf("an aborted run became %s", aborted.Verdict)
	}
	same := passedOutcome()
	same.Compare(Compare(same, base, "base.json", 0.10))
	if same.Verdict != runner.Passed || !same.Comparison.Passed {
		t.Fatalf("an unchanged run failed the comparison: %+v", same.Comparison)
	}
	other := passedOutcome()
	other.Experiment = "redis-outage"
	if c := Compare(other, base, "base.json", 0.10); c.Note == "" {
		t.Fatalf("no note when comparing different experiments")
	}
}

// TestCompareWithoutLateness: a p95 or recovery time worse than the bound
// only with the generator's own lateness is inconclusive, not a regression:
// a passed run becomes inconclusive, naming it; one worse both ways fails
// the run, an inconclusive run included.
func TestCompareWithoutLateness(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		verdict runner.Verdict // before the comparison
		change  func(o *runner.Outcome)
		metric  string
		incon   bool
		want    runner.Verdict
	}{
		// steady p95 1.5 → 12 ms, 1.5 ms without the lateness: the generator's doing
		{"p95 lateness only", runner.Passed, func(o *runner.Outcome) { o.Phases[4].P95MS, o.Phases[4].P95WithoutLatenessMS = 12, f64(1.5) },
			MetricP95, true, runner.Inconclusive},
		// 12 ms both ways: a regression the generator cannot explain
		{"p95 both ways", runner.Passed, func(o *runner.Outcome) { o.Phases[4].P95MS, o.Phases[4].P95WithoutLatenessMS = 12, f64(12) },
			MetricP95, false, runner.Failed},
		// an inconclusive run that regressed both ways fails
		{"inconclusive run regressed", runner.Inconclusive, func(o *runner.Outcome) { o.Phases[4].P95MS, o.Phases[4].P95WithoutLatenessMS = 12, f64(12) },
			MetricP95, false, runner.Failed},
		// recovery 0.5 → 2 s, 0.5 s without the lateness
		{"recovery lateness only", runner.Passed, func(o *runner.Outcome) {
			o.Recovery.MeasuredS = f64(2)
			o.Recovery.WithoutLateness = &runner.Judgement{Observed: "recovered in 0.5s", Passed: true, MeasuredS: f64(0.5)}
		}, MetricRecovery, true, runner.Inconclusive},
		// not recovered as measured (the baseline did), recovered in 0.5 s without the lateness
		{"recovered only without lateness", runner.Inconclusive, func(o *runner.Outcome) {
			o.Recovery.MeasuredS, o.Recovery.Passed, o.Recovery.Inconclusive = nil, false, true
			o.Recovery.WithoutLateness = &runner.Judgement{Observed: "recovered in 0.5s", Passed: true, MeasuredS: f64(0.5)}
		}, MetricRecovery, true, runner.Inconclusive},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cur, base := passedOutcome(), passedOutcome()
			cur.Verdict, cur.Passed = tt.verdict, tt.verdict == runner.Passed
			tt.change(cur)
			cur.Compare(Compare(cur, base, "base.json", 0.10))
			phase := "steady #1"
			if tt.metric == MetricRecovery {
				phase = "episode 1"
			}
			m := findChange(t, cur.Comparison, tt.metric, phase)
			if m.Inconclusive != tt.incon || m.Regressed == tt.incon || cur.Verdict != tt.want {
				t.Fatalf("%+v: inconclusive %v regressed %v, verdict %s; want inconclusive %v, verdict %s",
					m, m.Inconclusive, m.Regressed, cur.Verdict, tt.incon, tt.want)
			}
			if tt.incon && (len(cur.Inconclusive) != 1 || comparisonResult(m) != "inconclusive") {
				t.Errorf("inconclusive %q, result %s: want the regression named", cur.Inconclusive, comparisonResult(m))
			}
		})
	}
}

func TestParseRegression(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"10%", 0.10, true},   // a percentage
		{"2.5%", 0.025, true}, // fractional percent
		{"0.1", 0.1, true},    // a fraction
		{"0", 0, true},        // no regression allowed at all
		{"10", 0, false},      // ambiguous: 10% or 1000%?
		{"-5%", 0, false},     // negative
		{"ten", 0, false},     // not a number
		{"", 0, false},        // empty
	}
	for _, tc := range tests {
		got, err := ParseRegression(tc.in)
		if (err == nil) != tc.ok || (tc.ok && math.Abs(got-tc.want) > 1e-12) {
			t.Errorf("ParseRegression(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
