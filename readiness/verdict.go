package readiness

import (
	"fmt"
	"strings"

	"github.com/chaosload/chaosload/runner"
)

// Verdict is the production-readiness verdict.
type Verdict string

// The verdicts.
const (
	Ready               Verdict = "ready"
	ReadyWithConditions Verdict = "ready with conditions"
	NotReady            Verdict = "not ready"
)

// verdict decides readiness, with its reasons:
//
//   - not ready: a criterion that is not advisory was not met, or a run
//     failed or aborted (an expectation of its own did not hold);
//   - ready with conditions: otherwise, when an advisory criterion was not
//     met, a criterion was not measured, or a run did not complete or
//     decide (inconclusive, error, interrupted, partial);
//   - ready: every criterion met and every run passed.
func verdict(a *Assessment) (Verdict, []string) {
	var no, cond []string
	for _, j := range a.Judgements {
		c := j.Criterion
		switch {
		case j.Status == NotMet && !c.Advisory:
			no = append(no, fmt.Sprintf("%s (%s): %s %s in %s, %s", c.ID, c.Text, j.Shown, notBound(c.Expect), j.Decided.Run, j.Decided.Figure))
		case j.Status == NotMet:
			cond = append(cond, fmt.Sprintf("advisory %s (%s) not met: %s in %s", c.ID, c.Text, j.Shown, j.Decided.Run))
		case j.Status == NotMeasured:
			cond = append(cond, fmt.Sprintf("%s (%s) not measured: %s", c.ID, c.Text, j.Why))
		}
	}
	for _, r := range a.Runs {
		switch r.Verdict {
		case runner.Failed, runner.Aborted:
			no = append(no, fmt.Sprintf("experiment %s %s: %s", r.Experiment, r.Verdict, orNone(r.Failed)))
		case runner.Passed:
			if r.Partial {
				cond = append(cond, fmt.Sprintf("experiment %s is partial", r.Experiment))
			}
		default:
			cond = append(cond, fmt.Sprintf("experiment %s %s", r.Experiment, r.Verdict))
		}
	}
	switch {
	case len(no) > 0:
		return NotReady, append(no, cond...)
	case len(cond) > 0:
		return ReadyWithConditions, cond
	}
	return Ready, []string{fmt.Sprintf("every criterion met and every experiment passed (%d criteria, %d experiments)", len(a.Judgements), len(a.Runs))}
}

// notBound says the bound was missed: "is not < 100ms".
func notBound(b Bound) string {
	if b.Kind == Found {
		return "(expected found)"
	}
	return "is not " + b.Text
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "see its report"
	}
	return strings.Join(s, "; ")
}
