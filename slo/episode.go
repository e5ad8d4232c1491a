package slo

import (
	"time"

	"github.com/chaosload/chaosload/config"
)

// Episode is one fault episode as it happened (config.GroupEpisodes formed
// from the faults' measured windows): its faults, the stretches they were in
// effect, what its fault phase is judged against, and its recovery.
type Episode struct {
	// Number is the episode's place in the run, from 1; its phases and
	// checks carry it.
	Number int
	// Faults are its faults' windows, by start.
	Faults []FaultWindow
	// Start is when its first fault took effect; End (its fault_end) when
	// its last revert completed.
	Start, End time.Duration
	// InEffect is the fault phase: the stretches in which at least one of
	// its faults was in effect (the union of their windows), in order.
	// One-shot faults add nothing: an episode of only those has none.
	InEffect []Span
	// Merged says why its faults form one episode, a sentence per fault
	// that joined (config.Join).
	Merged []string
	// Degradation is what its fault phase is judged against: the union of
	// its faults' degradation.
	Degradation config.Thresholds
	// Recovery is the return to steady state after End, measured with the
	// episode's settings (the largest of its faults') up to the next
	// episode's start or the load end.
	Recovery RecoveryResult
	// NetRecovery is the same recovery measured again without the
	// generator's own lateness (Spec.Net), when a steady-state threshold
	// depends on it; nil otherwise.
	NetRecovery *RecoveryResult
}

// Span is the stretch [From, To) of the run, as offsets from the load start.
type Span struct{ From, To time.Duration }

// FaultSpec is how one fault's episode is judged: what the fault asks for
// (config.Experiment.FaultDegradation and FaultRecovery).
type FaultSpec struct {
	Degradation config.Thresholds
	Recovery    config.Recovery
}

// episodes groups the timeline's faults into episodes, without measuring
// their recovery.
func (spec Spec) episodes() []Episode {
	fs := spec.Timeline.Faults
	in := make([]config.EpisodeFault, len(fs))
	for i, f := range fs {
		in[i] = config.EpisodeFault{Name: f.Name, Start: f.Applied, End: max(f.Reverted, f.Applied), Recovery: spec.faultSpec(f.Name).Recovery}
	}
	groups := config.GroupEpisodes(in)
	out := make([]Episode, len(groups))
	for k, g := range groups {
		ep := Episode{Number: k + 1, Start: g.Start, End: g.End, Recovery: RecoveryResult{Settings: g.Recovery}}
		sets := make([]config.Thresholds, len(g.Members))
		for j, i := range g.Members {
			ep.Faults = append(ep.Faults, fs[i])
			sets[j] = spec.faultSpec(fs[i].Name).Degradation
		}
		for _, join := range g.Joins {
			ep.Merged = append(ep.Merged, join.String())
		}
		ep.Degradation = config.UnionThresholds(sets...)
		ep.InEffect = union(ep.Faults)
		out[k] = ep
	}
	return out
}

// faultSpec is what fault name asks for: its entry of PerFault, else the
// spec's degradation and recovery.
func (spec Spec) faultSpec(name string) FaultSpec {
	if fs, ok := spec.PerFault[name]; ok {
		fs.Recovery = recoveryDefaults(fs.Recovery)
		return fs
	}
	return FaultSpec{Degradation: spec.Degradation, Recovery: recoveryDefaults(spec.Recovery)}
}

// union returns the stretches covered by the faults' windows, merged and in
// order; one-shot faults (empty windows) add nothing.
func union(fs []FaultWindow) []Span {
	var out []Span
	for _, f := range fs { // by start
		if f.Reverted <= f.Applied {
			continue
		}
		if n := len(out); n > 0 && f.Applied <= out[n-1].To {
			out[n-1].To = max(out[n-1].To, f.Reverted)
			continue
		}
		out = append(out, Span{f.Applied, f.Reverted})
	}
	return out
}

// horizon is how far the recovery of episode k may be observed: until the
// next episode starts, or the load ends.
func horizon(eps []Episode, k int, loadEnd time.Duration) time.Duration {
	if k+1 < len(eps) {
		return min(eps[k+1].Start, loadEnd)
	}
	return loadEnd
}
