package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/chaosload/chaosload/runner"
)

// This file holds the wording every renderer shares, so that the terminal,
// Markdown, JUnit and HTML say the same thing the same way.

// verdictWhy says in a line why the run got its verdict.
func verdictWhy(o *runner.Outcome) string {
	switch o.Verdict {
	case runner.Passed:
		return "every expectation held"
	case runner.Failed:
		return "failed: " + strings.Join(failedNames(o), "; ")
	case runner.Aborted:
		return "aborted: " + o.AbortReason + " (faults reverted)"
	case runner.Inconclusive:
		return "inconclusive: " + strings.Join(o.Inconclusive, "; ")
	case runner.Incomplete:
		if o.Lost != nil {
			return "incomplete: " + o.Lost.String()
		}
		return "incomplete: a worker was lost after the start"
	case runner.Interrupted:
		return "interrupted (faults reverted, partial results)"
	case runner.Errored:
		if len(o.Errors) > 0 {
			return "infrastructure error: " + strings.Join(o.Errors, "; ")
		}
		return "infrastructure error"
	}
	return string(o.Verdict)
}

// failedNames lists every expectation that did not hold.
func failedNames(o *runner.Outcome) []string {
	var names []string
	for _, c := range o.Checks {
		if c.Failed() {
			names = append(names, fmt.Sprintf("%s %s (observed %s)", phaseLabel(c.Phase, c.Episode), c.Name, c.Observed))
		}
	}
	for _, lr := range recoveries(o) {
		if lr.R.Failed() {
			names = append(names, lr.Label+": "+recoveryObserved(lr.R))
		}
	}
	for _, v := range o.Verify {
		if !v.Passed {
			names = append(names, "verify "+verifyObserved(v))
		}
	}
	if c := o.Comparison; c != nil {
		for _, m := range c.Metrics {
			if m.Regressed {
				names = append(names, fmt.Sprintf("regression: %s %s", metricTitle(m), changeText(m)))
			}
		}
	}
	return names
}

func recoveryName(r *runner.Recovery) string {
	return fmt.Sprintf("back to steady state within %s (hold %s, window %s)", secs(r.WithinS), secs(r.HoldS), secs(r.WindowS))
}

func recoveryObserved(r *runner.Recovery) string {
	s := "not recovered"
	if r.MeasuredS != nil {
		s = "recovered in " + secs(*r.MeasuredS)
	}
	if r.MeasuredS != nil && r.Flaps > 0 {
		s += fmt.Sprintf(", %d flaps", r.Flaps)
	}
	if r.Inconclusive && r.WithoutLateness != nil {
		s += "; without the generator's lateness " + r.WithoutLateness.Observed
	}
	return s
}

// verifyName names the check of one step's acknowledged writes.
func verifyName(v runner.VerifyResult) string {
	return fmt.Sprintf("%s → %s: every acknowledged write exists", v.Step, v.Target)
}

func verifyObserved(v runner.VerifyResult) string {
	if v.Error != "" {
		return fmt.Sprintf("%s: %d acknowledged, check failed: %s", v.Step, v.Acknowledged, v.Error)
	}
	return fmt.Sprintf("%s: %d acknowledged, %d verified, %d lost%s", v.Step, v.Acknowledged, v.Verified, v.Lost, unverifiedText(v))
}

// unverifiedText is ", N unverified (...)" when the verify could not check
// some ids, else "".
func unverifiedText(v runner.VerifyResult) string {
	if v.Unverified == 0 {
		return ""
	}
	return fmt.Sprintf(", %d unverified (the service did not answer for them: %s)", v.Unverified, v.UnverifiedWhy)
}

// verifyIDs lists a verify's lost and unverified ids, for details.
func verifyIDs(v runner.VerifyResult) []string {
	var lines []string
	if len(v.LostIDs) > 0 {
		lines = append(lines, "lost ids: "+strings.Join(v.LostIDs, ", "))
	}
	if len(v.UnverifiedIDs) > 0 {
		lines = append(lines, "unverified ids: "+strings.Join(v.UnverifiedIDs, ", "))
	}
	return lines
}

// metricTitle names a compared metric: "fault #1: p95 latency".
func metricTitle(m runner.MetricChange) string {
	var name string
	switch m.Metric {
	case MetricP95:
		name = "p95 latency"
	case MetricThroughput:
		name = "throughput (ok ops/s)"
	case MetricRecovery:
		if m.Phase != "" {
			return m.Phase + ": recovery time"
		}
		return "recovery time"
	default:
		name = m.Metric
	}
	return m.Phase + ": " + name
}

// metricValue formats one value of a compared metric.
func metricValue(metric string, v *float64) string {
	if v == nil {
		return "—"
	}
	switch metric {
	case MetricP95:
		return fmtMS(*v)
	case MetricThroughput:
		return fmt.Sprintf("%.1f/s", *v)
	case MetricRecovery:
		return secs(*v)
	}
	return fmt.Sprintf("%g", *v)
}

// changeText says how a metric moved: "+9.5% (worse)", "3.2% better",
// or why it was not compared.
func changeText(m runner.MetricChange) string {
	switch {
	case m.Skipped:
		return "not compared: " + m.Note
	case m.Change == nil && m.Note != "":
		return m.Note
	case m.Change == nil:
		return "—"
	}
	c := *m.Change * 100
	var text string
	switch {
	case math.Abs(c) < 0.05:
		text = "unchanged"
	case c > 0:
		text = fmt.Sprintf("%.1f%% worse", c)
	default:
		text = fmt.Sprintf("%.1f%% better", -c)
	}
	if m.Inconclusive {
		text += ", " + m.Note
	}
	return text
}

// comparisonResult is the one-word result of a compared metric.
func comparisonResult(m runner.MetricChange) string {
	switch {
	case m.Skipped:
		return "skipped"
	case m.Inconclusive:
		return "inconclusive"
	case m.Regressed:
		return "FAIL"
	}
	return "pass"
}

// comparisonHeading introduces the comparison section.
func comparisonHeading(c *runner.Comparison) string {
	s := fmt.Sprintf("compared with %s", c.Baseline)
	if !c.BaselineStartedAt.IsZero() {
		s += " (run " + c.BaselineStartedAt.UTC().Format("2006-01-02 15:04 UTC") + ")"
	}
	return s + fmt.Sprintf("; max regression %s", pct(c.MaxRegression))
}

func passFail(ok bool) string {
	if ok {
		return "pass"
	}
	return "FAIL"
}

func checkResult(c runner.Check) string {
	switch {
	case c.Skipped:
		return "skipped"
	case c.Inconclusive:
		return "inconclusive"
	}
	return passFail(c.Passed)
}

// recoveryResult is the one-word result of the recovery bound.
func recoveryResult(r *runner.Recovery) string {
	if r.Inconclusive {
		return "inconclusive"
	}
	return passFail(r.Passed)
}

// checkObserved is what a check observed, and for one whose result flips
// without the generator's own lateness, what it observed so.
func checkObserved(c runner.Check) string {
	if !c.Inconclusive || c.WithoutLateness == nil {
		return c.Observed
	}
	return c.Observed + "; without the generator's lateness " + c.WithoutLateness.Observed
}

func secs(s float64) string {
	switch {
	case s >= 100:
		return fmt.Sprintf("%.0fs", s)
	case s >= 10:
		return fmt.Sprintf("%.1fs", s)
	}
	return fmt.Sprintf("%.2fs", s)
}

func optSecs(s *float64) string {
	if s == nil {
		return "—"
	}
	return secs(*s)
}

// fmtMS formats milliseconds with about three significant digits.
func fmtMS(v float64) string {
	switch {
	case v >= 10000:
		return fmt.Sprintf("%.1fs", v/1000)
	case v >= 1000:
		return fmt.Sprintf("%.2fs", v/1000)
	case v >= 100:
		return fmt.Sprintf("%.0fms", v)
	case v >= 10:
		return fmt.Sprintf("%.1fms", v)
	}
	return fmt.Sprintf("%.2fms", v)
}

// pct formats a fraction as a percentage: 0.1 → "10%".
func pct(f float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", f*100), "0"), ".") + "%"
}

// errorRate is errors/ops as a percentage string.
func errorRate(errors, ops int64) string {
	if ops == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f%%", float64(errors)/float64(ops)*100)
}
