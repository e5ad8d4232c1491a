package report

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/chaosload/chaosload/runner"
)

// The metrics a baseline comparison judges (runner.MetricChange.Metric).
const (
	// MetricP95 is a phase's p95 latency in milliseconds: higher is worse.
	MetricP95 = "p95_ms"
	// MetricThroughput is a phase's successful operations per second:
	// lower is worse.
	MetricThroughput = "ok_per_s"
	// MetricRecovery is the recovery time in seconds: later is worse.
	MetricRecovery = "recovery_s"
)

// MinCompareOps is the fewest operations a phase must hold in both runs for
// its p95 and throughput to be compared: a p95 of a handful of operations
// (a recovery phase of a quarter second) is noise, not a regression.
const MinCompareOps = 100

// P95SlackMS is how many milliseconds a phase's p95 may grow beyond the
// --max-regression share before it counts as a regression. At a p95 of a
// few milliseconds the bound alone is below what one machine's scheduling
// moves (2.7 ms became 4.6 ms, "71% worse", when a test suite ran beside the
// second of two identical runs); 5 ms more is far below any latency a user
// notices, and a real regression of a fast endpoint (2 ms to 20 ms) still
// exceeds it.
const P95SlackMS = 5.0

// DefaultMaxRegression is the bound of --max-regression when it is not set.
const DefaultMaxRegression = 0.10

// Compare sets cur against the saved run base (named baseName in the
// report) and returns the comparison; attach it with cur.Compare, which
// fails a run that regressed.
//
// Per judged phase present in both runs (warm-up and the gaps of a cascade
// are not judged; phases of an episode match by its number), p95 latency
// may grow and throughput (ok_per_s) may shrink by at most maxRegression
// (0.1 for 10%); a phase with fewer than MinCompareOps operations in either
// run is not compared. Each episode's recovery time may grow by at most
// maxRegression plus one interval, the resolution it is measured to; a run
// that did not recover when the baseline did has regressed.
func Compare(cur, base *runner.Outcome, baseName string, maxRegression float64) *runner.Comparison {
	c := &runner.Comparison{
		Baseline: baseName, BaselineStartedAt: base.StartedAt, MaxRegression: maxRegression, Passed: true,
	}
	if base.Experiment != cur.Experiment {
		c.Note = fmt.Sprintf("the baseline is a run of %q, this is %q", base.Experiment, cur.Experiment)
	}
	base = withEpisodeNumbers(base)
	for i, p := range cur.Phases {
		if judged(p) {
			c.Metrics = append(c.Metrics, comparePhase(p, matchPhase(base.Phases, cur.Phases, i), maxRegression)...)
		}
	}
	for i, bp := range base.Phases {
		if judged(bp) && matchPhase(cur.Phases, base.Phases, i) == nil {
			c.Metrics = append(c.Metrics, missingPhase(bp)...)
		}
	}
	c.Metrics = append(c.Metrics, compareRecoveries(cur, base, maxRegression)...)
	for _, m := range c.Metrics {
		if m.Regressed {
			c.Passed = false
		}
	}
	return c
}

// withEpisodeNumbers returns a result saved before fault episodes with its
// fault, recovery and steady phases numbered as episode 1: it had one of
// each, which a run whose faults form one episode has too. Other results
// are returned as they are.
func withEpisodeNumbers(o *runner.Outcome) *runner.Outcome {
	if len(o.Episodes) > 0 || o.Stress != nil {
		return o
	}
	cp := *o
	cp.Phases = slices.Clone(o.Phases)
	for i, p := range cp.Phases {
		if p.Episode == 0 && (p.Name == "fault" || p.Name == "recovery" || p.Name == "steady") {
			cp.Phases[i].Episode = 1
		}
	}
	return &cp
}

// judged reports whether a phase's figures are compared: not the warm-up,
// nor the gap between faults of an episode.
func judged(p runner.Phase) bool { return p.Name != "warm-up" && p.Name != "gap" }

// findPhase returns the first phase called name of the episode (0: none).
func findPhase(ps []runner.Phase, name string, episode int) *runner.Phase {
	for i := range ps {
		if ps[i].Name == name && ps[i].Episode == episode {
			return &ps[i]
		}
	}
	return nil
}

// matchPhase returns the phase of ps that matches from[i]: the same name,
// episode and place among the phases of that name and episode (a cascade's
// fault phases come in several stretches); nil when ps has none.
func matchPhase(ps, from []runner.Phase, i int) *runner.Phase {
	p, nth := from[i], 0
	for _, q := range from[:i] {
		if q.Name == p.Name && q.Episode == p.Episode {
			nth++
		}
	}
	for j := range ps {
		if ps[j].Name == p.Name && ps[j].Episode == p.Episode {
			if nth == 0 {
				return &ps[j]
			}
			nth--
		}
	}
	return nil
}

// comparePhase compares p95 and throughput of one phase; base is nil when
// the baseline had no such phase.
func comparePhase(cur runner.Phase, base *runner.Phase, bound float64) []runner.MetricChange {
	label := phaseLabel(cur.Name, cur.Episode)
	p95 := runner.MetricChange{Metric: MetricP95, Phase: label, Current: num(cur.P95MS)}
	tput := runner.MetricChange{Metric: MetricThroughput, Phase: label, Current: num(cur.OKPerS)}
	var skip string
	switch {
	case base == nil:
		skip = "the baseline has no " + label + " phase"
	case min(cur.Ops, base.Ops) < MinCompareOps:
		skip = fmt.Sprintf("too few operations (%d now, %d in the baseline; at least %d needed)", cur.Ops, base.Ops, MinCompareOps)
	}
	if base != nil {
		p95.Baseline, tput.Baseline = num(base.P95MS), num(base.OKPerS)
	}
	if skip != "" {
		p95.Skipped, p95.Note, tput.Skipped, tput.Note = true, skip, true, skip
		return []runner.MetricChange{p95, tput}
	}
	judge(&p95, cur.P95MS-base.P95MS, base.P95MS, bound, P95SlackMS)
	if net := cur.P95WithoutLatenessMS; net != nil {
		standsWithoutLateness(&p95, *net-base.P95MS, base.P95MS, bound, P95SlackMS, "p95 "+fmtMS(*net))
	}
	judge(&tput, base.OKPerS-cur.OKPerS, base.OKPerS, bound, 0)
	return []runner.MetricChange{p95, tput}
}

// standsWithoutLateness judges a regressed metric again on its value less
// the generator's own lateness (worse is then how much worse it is, shown
// says what it is): one that no longer regresses is inconclusive.
func standsWithoutLateness(m *runner.MetricChange, worse, ref, bound, slack float64, shown string) {
	if !m.Regressed {
		return
	}
	var again runner.MetricChange
	judge(&again, worse, ref, bound, slack)
	if !again.Regressed {
		m.Regressed, m.Inconclusive = false, true
		m.Note = "worse only with the generator's own lateness (" + shown + " without it)"
	}
}

// missingPhase reports a baseline phase this run did not have (a steady
// phase, when the service did not recover this time).
func missingPhase(base runner.Phase) []runner.MetricChange {
	label := phaseLabel(base.Name, base.Episode)
	note := "this run has no " + label + " phase"
	return []runner.MetricChange{
		{Metric: MetricP95, Phase: label, Baseline: num(base.P95MS), Skipped: true, Note: note},
		{Metric: MetricThroughput, Phase: label, Baseline: num(base.OKPerS), Skipped: true, Note: note},
	}
}

// judge sets m's change from worse (how much worse the current run is, in
// the metric's unit) and the baseline value ref: it regressed when worse
// exceeds bound·ref + slack.
func judge(m *runner.MetricChange, worse, ref, bound, slack float64) {
	if ref > 0 {
		m.Change = num(worse / ref)
	}
	m.Regressed = worse > bound*ref+slack+1e-9*math.Abs(ref)
}

// compareRecoveries compares the recovery times of the episodes of the same
// number, or of the runs' own recoveries when either run has no episodes (a
// stress run, or a result saved before episodes: its recovery was the
// one after the last fault).
func compareRecoveries(cur, base *runner.Outcome, bound float64) []runner.MetricChange {
	if len(cur.Episodes) == 0 || len(base.Episodes) == 0 {
		if m, ok := compareRecovery(cur.Recovery, base.Recovery, "", slackOf(cur, base), bound); ok {
			return []runner.MetricChange{m}
		}
		return nil
	}
	var out []runner.MetricChange
	for k := range max(len(cur.Episodes), len(base.Episodes)) {
		var cr, br *runner.Recovery
		if k < len(cur.Episodes) {
			cr = cur.Episodes[k].Recovery
		}
		if k < len(base.Episodes) {
			br = base.Episodes[k].Recovery
		}
		if m, ok := compareRecovery(cr, br, fmt.Sprintf("episode %d", k+1), slackOf(cur, base), bound); ok {
			out = append(out, m)
		}
	}
	return out
}

// slackOf is the resolution recovery is measured to: the longer interval.
func slackOf(cur, base *runner.Outcome) float64 { return max(cur.IntervalS, base.IntervalS) }

// compareRecovery compares two recovery times (phase names the episode,
// "episode 2", or is "" for a run's own); ok is false when neither run measured recovery (no
// faults, or no steady state to recover to).
func compareRecovery(cr, br *runner.Recovery, phase string, slack, bound float64) (runner.MetricChange, bool) {
	if cr == nil && br == nil {
		return runner.MetricChange{}, false
	}
	m := runner.MetricChange{Metric: MetricRecovery, Phase: phase}
	if cr != nil {
		m.Current = cr.MeasuredS
	}
	if br != nil {
		m.Baseline = br.MeasuredS
	}
	switch {
	case cr == nil || br == nil:
		m.Skipped, m.Note = true, "recovery was measured in only one of the runs"
	case m.Current == nil && m.Baseline == nil:
		m.Skipped, m.Note = true, "neither run recovered within its bound"
	case m.Current == nil:
		m.Regressed, m.Note = true, "not recovered (the baseline did)"
		recoveredWithoutLateness(&m, cr, slack, bound)
	case m.Baseline == nil:
		m.Note = "the baseline did not recover"
	default:
		judge(&m, *m.Current-*m.Baseline, *m.Baseline, bound, slack)
		recoveredWithoutLateness(&m, cr, slack, bound)
	}
	return m, true
}

// recoveredWithoutLateness judges a regressed recovery time again on the
// recovery measured without the generator's own lateness, when there was
// one (a run that did not recover as measured may have without it).
func recoveredWithoutLateness(m *runner.MetricChange, cr *runner.Recovery, slack, bound float64) {
	if net := cr.WithoutLateness; net != nil && net.MeasuredS != nil {
		standsWithoutLateness(m, *net.MeasuredS-*m.Baseline, *m.Baseline, bound, slack, "recovered in "+secs(*net.MeasuredS))
	}
}

func num(v float64) *float64 { return &v }

// ParseRegression reads a --max-regression bound: "10%" or the fraction
// "0.1". A bare number above 1 is refused as ambiguous.
func ParseRegression(s string) (float64, error) {
	t := strings.TrimSpace(s)
	percent := strings.HasSuffix(t, "%")
	v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(t, "%")), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("max regression %q: want a percentage (10%%) or a fraction (0.1)", s)
	}
	if percent {
		v /= 100
	} else if v > 1 {
		return 0, fmt.Errorf("max regression %q: ambiguous; write %s%% or %g", s, t, v/100)
	}
	if v < 0 {
		return 0, fmt.Errorf("max regression %q: must not be negative", s)
	}
	return v, nil
}
