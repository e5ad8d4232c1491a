package slo

import "time"

// The phase names.
const (
	// PhaseWarmup is the start of the load: not judged.
	PhaseWarmup = "warm-up"
	// PhaseBaseline is before the first fault: the thresholds must hold.
	PhaseBaseline = "baseline"
	// PhaseFault is while any fault is active: degradation must hold.
	PhaseFault = "fault"
	// PhaseRecovery is from the end of the last fault until the thresholds
	// hold again: measured, bounded by recovery.within.
	PhaseRecovery = "recovery"
	// PhaseSteady is after recovery: the thresholds must hold.
	PhaseSteady = "steady"
)

// Phase is one stretch of the run, [Start, End) as offsets from the load
// start.
type Phase struct {
	Name       string
	Start, End time.Duration
}

// FaultWindow is when one fault was in effect: Applied when its apply
// completed, Reverted when its revert completed. A one-shot fault (a reset)
// has Applied == Reverted.
type FaultWindow struct {
	Name              string
	Applied, Reverted time.Duration
}

// Timeline is what phases are cut from: the warm-up length, when the load
// ended, and the faults as they actually happened (faults that were never
// applied left out).
type Timeline struct {
	Warmup  time.Duration
	LoadEnd time.Duration
	Faults  []FaultWindow
}

// FaultSpan returns when the first fault was applied and when the last
// revert completed (fault_end); ok is false without faults.
func (tl Timeline) FaultSpan() (start, end time.Duration, ok bool) {
	for i, f := range tl.Faults {
		if i == 0 || f.Applied < start {
			start = f.Applied
		}
		if i == 0 || f.Reverted > end {
			end = f.Reverted
		}
	}
	return start, end, len(tl.Faults) > 0
}

// Phases cuts the run into phases, in order, leaving out empty ones except
// the fault and recovery phases of a run with faults (a one-shot fault has
// an empty fault phase; a service that never left steady state an empty
// recovery):
//
//	0      warmup     first applied    last reverted    recovered     load end
//	├─warm-up─┼──baseline──┼─────fault──────┼───recovery────┼────steady────┤
//
// The fault phase spans every fault, gaps between sequential faults
// included: until the last fault is reverted the service is judged as
// degraded, and recovery is measured only once, after the last fault. A
// fault applied during the warm-up cuts the warm-up short (there is then no
// baseline). When the service did not recover (or recovery was not
// measured), the recovery phase runs to the load end and there is no steady
// phase. Without faults the run is warm-up then baseline: everything after
// the warm-up is "before the first fault", and there is nothing to recover
// from.
func (tl Timeline) Phases(rec RecoveryResult) []Phase {
	end := max(tl.LoadEnd, 0)
	warm := min(max(tl.Warmup, 0), end)
	first, last, faulted := tl.FaultSpan()
	if !faulted {
		return nonEmpty(Phase{PhaseWarmup, 0, warm}, Phase{PhaseBaseline, warm, end})
	}
	first, last = clamp(first, 0, end), clamp(last, 0, end)
	last = max(last, first)
	recovered := end
	if rec.Measured() {
		recovered = clamp(last+rec.Time, last, end)
	}
	out := nonEmpty(Phase{PhaseWarmup, 0, min(warm, first)}, Phase{PhaseBaseline, warm, first})
	out = append(out, Phase{PhaseFault, first, last}, Phase{PhaseRecovery, last, recovered})
	return append(out, nonEmpty(Phase{PhaseSteady, recovered, end})...)
}

// Find returns the phase called name, and whether there is one.
func Find(phases []Phase, name string) (Phase, bool) {
	for _, p := range phases {
		if p.Name == name {
			return p, true
		}
	}
	return Phase{}, false
}

func nonEmpty(ps ...Phase) []Phase {
	out := ps[:0]
	for _, p := range ps {
		if p.End > p.Start {
			out = append(out, p)
		}
	}
	return out
}

func clamp(d, lo, hi time.Duration) time.Duration { return min(max(d, lo), hi) }
