package runner

import (
	"strconv"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/metrics"
	"github.com/chaosload/chaosload/slo"
)

// Episode is one fault episode of a run, with its own fault, recovery and
// steady phases: faults that overlap or cascade (follow each other closer
// than the recovery observation within + hold + window), judged together. Its phases and checks carry its
// Number in Phase.Episode and Check.Episode.
type Episode struct {
	// Number is the episode's place in the run, from 1.
	Number int `json:"number"`
	// Faults names its faults, by start.
	Faults []string `json:"faults"`
	// StartS is when its first fault took effect; EndS when its last
	// revert completed (its recovery's fault_end_s).
	StartS float64 `json:"start_s"`
	EndS   float64 `json:"end_s"`
	// InEffectS is how long at least one of its faults was in effect: the
	// length of its fault phase (0 for one-shot faults only).
	InEffectS float64 `json:"in_effect_s"`
	// Merged says why its faults form one episode, a sentence per fault
	// that joined; empty for an episode of one fault.
	Merged []string `json:"merged,omitempty"`
	// FaultPhase is what the operations did while its faults were in
	// effect: every fault phase of the episode taken together (the gaps of
	// a cascade left out), over the intervals its checks were judged on.
	// Its start_s and end_s are those of the first and last stretch.
	FaultPhase Phase `json:"fault_phase"`
	// Checks are the checks of its phases (its degradation in the fault
	// phase, the thresholds in its steady phase), the same as in
	// Outcome.Checks.
	Checks []Check `json:"checks"`
	// Recovery is the return to steady state after EndS and its bound;
	// nil when not measured (no steady-state thresholds).
	Recovery *Recovery `json:"recovery"`
	// Rotation is the rotation of each replica its faults acted on, on
	// targets of several replicas (rotation.go).
	Rotation []RotationResult `json:"rotation,omitempty"`
}

// episodes converts the judged episodes; checks are the outcome's, from
// which each takes its own.
func episodes(rec *metrics.Recorder, eps []slo.Episode, checks []Check) []Episode {
	out := make([]Episode, 0, len(eps))
	for _, ep := range eps {
		e := Episode{
			Number: ep.Number, StartS: seconds(ep.Start), EndS: seconds(ep.End),
			Merged: ep.Merged, Recovery: recovery(ep.Recovery, ep.NetRecovery),
			FaultPhase: faultPhaseStats(rec, ep),
		}
		for _, f := range ep.Faults {
			e.Faults = append(e.Faults, f.Name)
		}
		for _, sp := range ep.InEffect {
			e.InEffectS += seconds(sp.To - sp.From)
		}
		for _, c := range checks {
			if c.Episode == ep.Number {
				e.Checks = append(e.Checks, c)
			}
		}
		out = append(out, e)
	}
	return out
}

// faultPhaseStats is the episode's fault phase with what its operations
// did, over the intervals its checks were judged on.
func faultPhaseStats(rec *metrics.Recorder, ep slo.Episode) Phase {
	out := Phase{Name: slo.PhaseFault, Episode: ep.Number, StartS: seconds(ep.Start), EndS: seconds(ep.Start)}
	if n := len(ep.InEffect); n > 0 {
		out.StartS, out.EndS = seconds(ep.InEffect[0].From), seconds(ep.InEffect[n-1].To)
	}
	spans := slo.FaultSpans(rec.Interval(), ep.InEffect)
	if len(spans) == 0 {
		return out
	}
	fillStats(&out, slo.WindowOver(rec, spans, metrics.Selector{}), slo.WindowOver(rec.WithoutLateness(), spans, metrics.Selector{}))
	return out
}

// perFault is what each fault of the file asks for of its episode.
func perFault(exp *config.Experiment) map[string]slo.FaultSpec {
	out := make(map[string]slo.FaultSpec, len(exp.Faults))
	for i := range exp.Faults {
		out[exp.Faults[i].Name] = slo.FaultSpec{Degradation: exp.FaultDegradation(i), Recovery: exp.FaultRecovery(i)}
	}
	return out
}

// PhaseLabel names a phase of an episode, as every report and reason does:
// "fault #1", "recovery #2"; name alone outside episodes (warm-up,
// baseline, stress levels).
func PhaseLabel(name string, episode int) string {
	if episode == 0 {
		return name
	}
	return name + " #" + strconv.Itoa(episode)
}
