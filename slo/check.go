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
	// Net is the check judged a second time without the generator's own
	// lateness (see lateness.go): the threshold on the same operations less
	// each one's lateness, or the recovery measured so. It is nil for
	// checks that lateness cannot change (counts, rates of errors, sampled
	// metrics), for skipped ones, and when the judge had no such view.
	Net *Observation
	// Pos is where the threshold was written (zero for recovery).
	Pos config.Pos
}

// Failed reports whether the check was judged and did not hold, with the
// generator's own lateness and without it (a check that holds one way only
// has Flipped).
func (c Check) Failed() bool { return !c.Skipped && !c.Passed && !c.Flipped() }

// Verdict is the judgement of a whole run.
type Verdict struct {
	Phases []Phase
	Checks []Check
	// Episodes are the fault episodes, in time order, each with its
	// recovery.
	Episodes []Episode
	// Recovery is the last episode's (not applicable without faults).
	Recovery RecoveryResult
	// NetRecovery is the last episode's recovery measured again without
	// the generator's own lateness (Episode.NetRecovery); nil when not
	// measured.
	NetRecovery *RecoveryResult
	// Passed is true when no check failed and none flipped; skipped checks
	// do not count.
	Passed bool
}

// Failed returns the checks that failed both ways.
func (v Verdict) Failed() []Check { return v.checks(Check.Failed) }

// checks returns the checks keep keeps.
func (v Verdict) checks(keep func(Check) bool) []Check {
	var out []Check
	for _, c := range v.Checks {
		if keep(c) {
			out = append(out, c)
		}
	}
	return out
}
