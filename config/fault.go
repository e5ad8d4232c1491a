package config

import (
	"time"

	"github.com/chaosload/chaosload/faults"
)

// Fault is one entry of the fault timeline: the fault as package faults reads
// it (its keys sit inline) and, optionally, how the episode holding it is
// judged when that should differ from the file's:
//
//	faults:
//	  - name: redis-slow
//	    target: redis
//	    kind: latency
//	    latency: 500ms
//	    startTime: 30s
//	    duration: 20s
//	    degradation:                 # instead of the file's, for this fault
//	      latency: ["p(99) < 3s"]
//	    recovery: {within: 45s}      # hold and window stay the file's
//
// How the faults of one episode combine is Episode's to say.
type Fault struct {
	faults.Fault `yaml:",inline"`
	// Degradation, when set, replaces the file's degradation for this
	// fault.
	Degradation Thresholds `yaml:"degradation"`
	// Recovery, when set, overrides the file's recovery for this fault:
	// the fields it sets replace the file's, the others stay.
	Recovery *Recovery `yaml:"recovery"`
	// Select says which replicas of the target the fault acts on (nil:
	// all of them).
	Select *Select `yaml:"select"`
}

// FaultDegradation returns what the fault asks of its fault phase: its own
// degradation when it has one, else the file's.
func (e *Experiment) FaultDegradation(i int) Thresholds {
	if d := e.Faults[i].Degradation; len(d) > 0 {
		return d
	}
	return e.Degradation
}

// FaultRecovery returns the recovery the fault asks for: the file's
// (defaults applied) with the fault's own fields over it.
func (e *Experiment) FaultRecovery(i int) Recovery {
	return over(e.Faults[i].Recovery, e.recoveryOrDefault())
}

// over returns base with the fields r sets (non-zero) in place of base's;
// a nil r is base.
func over(r *Recovery, base Recovery) Recovery {
	if r == nil {
		return base
	}
	if r.Within > 0 {
		base.Within = r.Within
	}
	if r.Hold > 0 {
		base.Hold = r.Hold
	}
	if r.Window > 0 {
		base.Window = r.Window
	}
	return base
}

// Largest returns the field-wise largest of r and o: the recovery an
// episode of faults asking for r and o is judged by.
func (r Recovery) Largest(o Recovery) Recovery {
	return Recovery{Within: max(r.Within, o.Within), Hold: max(r.Hold, o.Hold), Window: max(r.Window, o.Window)}
}

// Observation is how long after a fault's end the load must go on for its
// recovery to be judged: within + hold + window.
func (r Recovery) Observation() time.Duration { return r.Within + r.Hold + r.Window }

// UnionThresholds returns every threshold of the sets, in order, each
// condition on a metric key once: what an episode of several faults is
// judged against.
func UnionThresholds(sets ...Thresholds) Thresholds {
	var out Thresholds
	seen := map[string]bool{}
	for _, set := range sets {
		for _, th := range set {
			if k := th.Name(); !seen[k] {
				seen[k] = true
				out = append(out, th)
			}
		}
	}
	return out
}
