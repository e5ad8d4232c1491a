package slo

import (
	"github.com/chaosload/chaosload/config"
)

// Check is one verdict of a run: a threshold judged over a phase, or the
// recovery bound. It is data; rendering is package report's.
type Check struct {
	// Name is the metric key ("latency", "errors{class:http_5xx}"), or
	// "recovery".
	Name string
	// Phase is the phase judged (one of the Phase* names).
	Phase string
	// Episode is the fault episode of the phase, from 1; 0 for the
	// baseline.
	Episode int
	// Expression is the condition as written ("p(95) < 100ms"), or the
	// recovery bound ("within 30s (hold 10s, window 5s)").
	Expression string
	// Observed is what was seen: "p95 = 42ms", "no data", "recovered in
	// 3.5s", "not recovered within 30s: ...", or why it was not judged.
	Observed string
	// Passed says whether the check held. A skipped check has not passed,
	// but does not fail the run either (see Verdict.Passed).
	Passed bool
	// Skipped is set when there was nothing to judge: the phase is empty or
	// absent, or recovery was not measured. Observed says why.
	Skipped bool
	// Obs is the threshold's observation (zero for recovery and skipped
	// checks).
	Obs Observation
	// Pos is where the threshold was written (zero for recovery).
	Pos config.Pos
}

// Failed reports whether the check was judged and did not hold.
func (c Check) Failed() bool { return !c.Skipped && !c.Passed }

// Verdict is the judgement of a whole run.
type Verdict struct {
	Phases []Phase
	Checks []Check
	// Episodes are the fault episodes, in time order, each with its
	// recovery.
	Episodes []Episode
	// Recovery is the last episode's (not applicable without faults).
	Recovery RecoveryResult
	// Passed is true when no check failed; skipped checks do not count.
	Passed bool
}

// Failed returns the checks that failed.
func (v Verdict) Failed() []Check {
	var out []Check
	for _, c := range v.Checks {
		if c.Failed() {
			out = append(out, c)
		}
	}
	return out
}
