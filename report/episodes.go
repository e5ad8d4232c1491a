package report

import (
	"fmt"
	"strings"

	"github.com/chaosload/chaosload/runner"
)

// The wording of fault episodes every renderer shares: a phase of an
// episode is labelled with its number ("fault #1", "recovery #2"), the
// baseline and warm-up are not, and each episode has its own recovery row.

// phaseLabel names a phase of an episode: "fault #1"; name alone outside
// episodes (warm-up, baseline, stress levels).
func phaseLabel(name string, episode int) string { return runner.PhaseLabel(name, episode) }

// classLabel is phaseLabel for a JUnit classname, without the space:
// "fault#1".
func classLabel(name string, episode int) string {
	return strings.ReplaceAll(phaseLabel(name, episode), " ", "")
}

// labelledRecovery is one recovery bound with its label.
type labelledRecovery struct {
	Label   string
	Episode int
	R       *runner.Recovery
}

// recoveries lists the recovery bounds judged: one per episode ("recovery
// #1", ...), else the outcome's own (a stress run's after overload, or a
// result saved before episodes) as "recovery".
func recoveries(o *runner.Outcome) []labelledRecovery {
	var out []labelledRecovery
	for _, e := range o.Episodes {
		if e.Recovery != nil {
			out = append(out, labelledRecovery{phaseLabel("recovery", e.Number), e.Number, e.Recovery})
		}
	}
	if len(o.Episodes) == 0 && o.Recovery != nil {
		out = append(out, labelledRecovery{"recovery", 0, o.Recovery})
	}
	return out
}

// recoveryBound says what a recovery bound expects, for failure messages:
// "steady state within 30.0s of episode 1's last revert".
func recoveryBound(lr labelledRecovery) string {
	of := "the last fault's end"
	if lr.Episode > 0 {
		of = fmt.Sprintf("episode %d's last revert (%s)", lr.Episode, secs(lr.R.FaultEndS))
	}
	return fmt.Sprintf("steady state within %s of %s", secs(lr.R.WithinS), of)
}

// episodeFaults names an episode's faults: "pg-slow, redis-down".
func episodeFaults(e runner.Episode) string { return strings.Join(e.Faults, ", ") }

// episodeSpan renders when an episode's faults were in effect: "30.0s –
// 75.0s (in effect 45.0s)".
func episodeSpan(e runner.Episode) string {
	return fmt.Sprintf("%s – %s (in effect %s)", secs(e.StartS), secs(e.EndS), secs(e.InEffectS))
}

// episodeRecovery sums up an episode's recovery against its bound:
// "recovered in 0.50s (bound 30.0s)", "not recovered (bound 10.0s)".
func episodeRecovery(e runner.Episode) string {
	if e.Recovery == nil {
		return "not measured"
	}
	return fmt.Sprintf("%s (bound %s)", recoveryObserved(e.Recovery), secs(e.Recovery.WithinS))
}

// episodeFaultFigures sums up what the operations did during an episode's
// fault phase: "errors 40.00%, p95 48.0ms"; "—" without operations.
func episodeFaultFigures(e runner.Episode) string {
	p := e.FaultPhase
	if p.Ops == 0 {
		return "—"
	}
	return fmt.Sprintf("errors %s, p95 %s", errorRate(p.Errors, p.Ops), fmtMS(p.P95MS))
}

// episodeResult is FAIL when a check of the episode or its recovery failed
// with and without the generator's own lateness, inconclusive when none did
// but the lateness decides one of them, pass otherwise.
func episodeResult(e runner.Episode) string {
	failed, undecided := e.Recovery.Failed(), e.Recovery != nil && e.Recovery.Inconclusive
	for _, c := range e.Checks {
		failed = failed || c.Failed()
		undecided = undecided || c.Inconclusive
	}
	switch {
	case failed:
		return passFail(false)
	case undecided:
		return "inconclusive"
	}
	return passFail(true)
}

// expectation is one check or one recovery bound, as the reports list them.
type expectation struct {
	// Phase is the phase label: "baseline", "fault #1", "recovery #1".
	Phase    string
	Check    *runner.Check
	Recovery *labelledRecovery
}

// expectations lists the checks and recovery bounds in time order: each
// episode's recovery comes before the first check of its steady phase (or
// after its other checks when it has none).
func expectations(o *runner.Outcome) []expectation {
	rs := recoveries(o)
	done := make([]bool, len(rs))
	var out []expectation
	flush := func(upTo int) { // every recovery of an episode up to upTo not listed yet
		for i := range rs {
			if !done[i] && (rs[i].Episode <= upTo || upTo < 0) {
				done[i] = true
				out = append(out, expectation{Phase: rs[i].Label, Recovery: &rs[i]})
			}
		}
	}
	for i := range o.Checks {
		c := &o.Checks[i]
		if c.Phase == "steady" {
			flush(c.Episode)
		}
		out = append(out, expectation{Phase: phaseLabel(c.Phase, c.Episode), Check: c})
	}
	flush(-1)
	return out
}
