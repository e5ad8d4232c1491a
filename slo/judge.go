package slo

import (
	"time"

	"github.com/chaosload/chaosload/config"
)

// Spec is what a run is judged against.
type Spec struct {
	// Thresholds is the steady state: judged in the baseline and steady
	// phases, and what recovery waits for.
	Thresholds config.Thresholds
	// Degradation is judged in the fault phase.
	Degradation config.Thresholds
	// Recovery bounds the return to steady state (zeros: defaults).
	Recovery config.Recovery
	// Timeline is the run as it happened.
	Timeline Timeline
}

// Judge judges a run after its load has ended (every result recorded):
// it measures recovery, cuts the phases and returns the checks in time
// order: the thresholds in the baseline, the degradation in the fault
// phase, the recovery bound, the thresholds in the steady phase. Without
// faults there is only the baseline. Each threshold is judged on the
// aggregate of its whole phase.
func Judge(src Source, spec Spec) Verdict {
	_, last, faulted := spec.Timeline.FaultSpan()
	v := Verdict{Recovery: RecoveryResult{Status: RecoveryNotApplicable, Reason: "not measured: no faults"}}
	if faulted {
		v.Recovery = MeasureRecovery(src, spec.Thresholds, spec.Recovery, last, spec.Timeline.LoadEnd)
	}
	v.Phases = spec.Timeline.Phases(v.Recovery)
	j := phaseJudge{src: src, phases: v.Phases, rec: v.Recovery}
	v.Checks = j.judge(PhaseBaseline, spec.Thresholds)
	if faulted {
		v.Checks = append(v.Checks, j.judge(PhaseFault, spec.Degradation)...)
		v.Checks = append(v.Checks, recoveryCheck(v.Recovery))
		v.Checks = append(v.Checks, j.judge(PhaseSteady, spec.Thresholds)...)
	}
	v.Passed = len(v.Failed()) == 0
	return v
}

// phaseJudge judges thresholds over whole phases.
type phaseJudge struct {
	src    Source
	phases []Phase
	rec    RecoveryResult
}

// judge returns a check per threshold over the phase called name.
func (j phaseJudge) judge(name string, ths config.Thresholds) []Check {
	p, ok := Find(j.phases, name)
	var w *windowSet
	if ok && p.End > p.Start {
		if from, to := j.bounds(name, p); to > from {
			w = newWindowSet(j.src, from, to, nil)
		}
	}
	out := make([]Check, 0, len(ths))
	for _, th := range ths {
		c := Check{Name: th.Key, Phase: name, Expression: th.Cond.Text, Pos: th.Pos}
		if w == nil {
			c.Skipped, c.Observed = true, "not judged: "+j.whyEmpty(name)
		} else {
			c.Obs = w.evaluate(th)
			c.Observed, c.Passed = c.Obs.String(), c.Obs.Pass
		}
		out = append(out, c)
	}
	return out
}

// bounds aligns a phase to the recorder's intervals. A window aggregates the
// intervals whose start lies in it, and an interval in which a fault began or
// ended holds results from both sides. So the healthy phases (baseline,
// steady) keep only the intervals wholly inside them, and the fault phase
// takes every interval it touches: a result that may have met the fault is
// never judged as steady state.
//
//	intervals  ┼────┼────┼────┼────┼────┼────┼
//	phases          baseline ▲ fault      ▲ steady
//	baseline   ├────────┤                       (floor of the fault's start)
//	fault               ├──────────────┤        (floor … ceil)
func (j phaseJudge) bounds(name string, p Phase) (from, to time.Duration) {
	iv := j.src.Interval()
	floor := func(d time.Duration) time.Duration { return d / iv * iv }
	ceil := func(d time.Duration) time.Duration { return (d + iv - 1) / iv * iv }
	if name == PhaseFault {
		return floor(p.Start), ceil(p.End)
	}
	return ceil(p.Start), floor(p.End)
}

// whyEmpty says why a phase has nothing to judge.
func (j phaseJudge) whyEmpty(name string) string {
	switch {
	case name == PhaseBaseline:
		return "no baseline phase (the first fault came before the warm-up ended)"
	case name == PhaseFault:
		return "the fault phase is empty (one-shot faults only)"
	case name == PhaseSteady && !j.rec.Measured():
		return "no steady phase (the service did not recover)"
	}
	return "the " + name + " phase is empty"
}

// recoveryCheck is the check of the recovery bound.
func recoveryCheck(rec RecoveryResult) Check {
	s := rec.Settings
	return Check{
		Name:  "recovery",
		Phase: PhaseRecovery,
		Expression: "within " + showSeconds(s.Within) + " (hold " + showSeconds(s.Hold) +
			", window " + showSeconds(s.Window) + ")",
		Observed: rec.Reason,
		Passed:   rec.Passed(),
		Skipped:  rec.Status == RecoveryNotApplicable,
	}
}
