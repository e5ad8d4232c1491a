package slo

import "time"

// The phase names. The fault, gap, recovery and steady phases come once per
// fault episode (Phase.Episode).
const (
	// PhaseWarmup is the start of the load: not judged.
	PhaseWarmup = "warm-up"
	// PhaseBaseline is before the first fault: the thresholds must hold.
	PhaseBaseline = "baseline"
	// PhaseFault is while a fault of the episode is in effect: the
	// episode's degradation must hold. Judged as one over every fault
	// phase of the episode.
	PhaseFault = "fault"
	// PhaseGap is between faults of one episode (a cascade): not judged,
	// neither as degraded nor as steady.
	PhaseGap = "gap"
	// PhaseRecovery is from the end of the episode's last fault until the
	// thresholds hold again: measured, bounded by recovery.within.
	PhaseRecovery = "recovery"
	// PhaseSteady is after recovery, until the next episode or the load
	// end: the thresholds must hold.
	PhaseSteady = "steady"
)

// Phase is one stretch of the run, [Start, End) as offsets from the load
// start.
type Phase struct {
	Name       string
	Start, End time.Duration
	// Episode is the fault episode the phase belongs to, from 1; 0 for the
	// warm-up and the baseline (and the phases of a stress run).
	Episode int
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
// revert completed; ok is false without faults.
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

// Phases cuts the run into phases, in order, from its episodes (with their
// recovery measured). Empty phases are left out, except an episode's fault
// phase when it has only one-shot faults and its recovery phase when the
// service never left steady state:
//
//	0   warmup   episode 1                                   episode 2
//	├warm-up┼baseline┼─fault─┼gap┼─fault─┼recovery┼─steady─┼─fault─┼recovery┼─steady─┤
//	                 ▲ first applied     ▲ last reverted   ▲ next episode     load end
//
// A fault applied during the warm-up cuts the warm-up short (there is then
// no baseline). When an episode's service did not recover (or recovery was
// not measured), its recovery phase runs to the next episode or the load
// end and it has no steady phase. Without faults the run is warm-up then
// baseline: everything after the warm-up is "before the first fault".
func (tl Timeline) Phases(eps []Episode) []Phase {
	end := max(tl.LoadEnd, 0)
	warm := min(max(tl.Warmup, 0), end)
	if len(eps) == 0 {
		return nonEmpty(Phase{Name: PhaseWarmup, End: warm}, Phase{Name: PhaseBaseline, Start: warm, End: end})
	}
	first := clamp(eps[0].Start, 0, end)
	out := nonEmpty(Phase{Name: PhaseWarmup, End: min(warm, first)}, Phase{Name: PhaseBaseline, Start: warm, End: first})
	for k := range eps {
		out = append(out, episodePhases(eps[k], clamp(horizon(eps, k, end), 0, end))...)
	}
	return out
}

// episodePhases cuts one episode, up to horizon: its fault phases and the
// gaps between them, its recovery, its steady phase.
func episodePhases(ep Episode, horizon time.Duration) []Phase {
	n := ep.Number
	at := func(d time.Duration) time.Duration { return clamp(d, 0, horizon) }
	start, last := at(ep.Start), at(ep.End)
	last = max(last, start)
	var out []Phase
	cursor := start
	for _, sp := range ep.InEffect {
		from, to := max(at(sp.From), cursor), at(sp.To)
		if to <= from {
			continue
		}
		out = append(out, nonEmpty(Phase{PhaseGap, cursor, from, n})...)
		out = append(out, Phase{PhaseFault, from, to, n})
		cursor = to
	}
	if len(out) == 0 {
		out = append(out, Phase{PhaseFault, start, start, n}) // one-shot faults only
	}
	out = append(out, nonEmpty(Phase{PhaseGap, cursor, last, n})...)
	recovered := horizon
	if ep.Recovery.Measured() {
		recovered = clamp(ep.End+ep.Recovery.Time, last, horizon)
	}
	out = append(out, Phase{PhaseRecovery, last, recovered, n})
	return append(out, nonEmpty(Phase{PhaseSteady, recovered, horizon, n})...)
}

// Find returns the first phase called name of the episode (0: none), and
// whether there is one.
func Find(phases []Phase, name string, episode int) (Phase, bool) {
	for _, p := range phases {
		if p.Name == name && p.Episode == episode {
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
