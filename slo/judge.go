package slo

import (
	"time"

	"github.com/chaosload/chaosload/config"
)

// Spec is what a run is judged against. Thresholds of resource and probe
// metrics (Sampled) are left to JudgeSampled.
type Spec struct {
	// Thresholds is the steady state: judged in the baseline and steady
	// phases, and what recovery waits for.
	Thresholds config.Thresholds
	// Degradation is judged in the fault phase of every episode whose
	// faults have no FaultSpec.
	Degradation config.Thresholds
	// Recovery bounds the return to steady state after each episode (zeros:
	// defaults), for faults without a FaultSpec.
	Recovery config.Recovery
	// PerFault is what each fault asks for, by name; a fault not in it asks
	// for Degradation and Recovery. An episode is judged by the union of
	// its faults' degradation and the largest of their recovery settings.
	PerFault map[string]FaultSpec
	// Timeline is the run as it happened.
	Timeline Timeline
	// Net is the same results less the generator's own lateness
	// (metrics.Recorder.WithoutLateness): every check lateness can change
	// is judged on it too (Check.Net). nil judges each check once.
	Net Source
}

// Judge judges a run after its load has ended (every result recorded): it
// groups the faults into episodes, measures each episode's recovery, cuts
// the phases and returns the checks in time order: the thresholds in the
// baseline, then per episode its degradation over its fault phase, its
// recovery bound and the thresholds in its steady phase. Without faults
// there is only the baseline. Each threshold is judged on the aggregate of
// its whole phase (an episode's fault phase: every stretch of it), and,
// when it depends on the generator's own lateness, again on spec.Net over
// the same intervals; each episode's recovery is measured again on
// spec.Net. The phases are cut by the recovery as measured.
func Judge(src Source, spec Spec) Verdict {
	ths, _ := SplitSampled(spec.Thresholds)
	v := Verdict{Recovery: RecoveryResult{Status: RecoveryNotApplicable, Reason: "not measured: no faults"}}
	v.Episodes = spec.episodes()
	for k := range v.Episodes {
		ep := &v.Episodes[k]
		until := horizon(v.Episodes, k, spec.Timeline.LoadEnd)
		ep.Recovery = MeasureRecovery(src, ths, ep.Recovery.Settings, ep.End, until)
		ep.NetRecovery = MeasureRecoveryWithoutLateness(spec.Net, ths, ep.Recovery.Settings, ep.End, until)
		v.Recovery, v.NetRecovery = ep.Recovery, ep.NetRecovery
	}
	v.Phases = spec.Timeline.Phases(v.Episodes)
	j := phaseJudge{src: src, net: spec.Net, phases: v.Phases}
	v.Checks = j.judge(PhaseBaseline, 0, ths)
	for _, ep := range v.Episodes {
		deg, _ := SplitSampled(ep.Degradation)
		v.Checks = append(v.Checks, j.judgeFault(ep, deg)...)
		v.Checks = append(v.Checks, recoveryCheck(ep))
		v.Checks = append(v.Checks, j.judge(PhaseSteady, ep.Number, ths)...)
	}
	v.Passed = len(v.Failed()) == 0 && len(v.Flipped()) == 0
	return v
}

// phaseJudge judges thresholds over whole phases.
type phaseJudge struct {
	src    Source
	net    Source // src less the generator's own lateness; nil: none
	phases []Phase
}

// judge returns a check per threshold over the phase called name of the
// episode (0: none).
func (j phaseJudge) judge(name string, episode int, ths config.Thresholds) []Check {
	var spans []Span
	if p, ok := Find(j.phases, name, episode); ok {
		if from, to := PhaseWindow(j.src.Interval(), p); to > from {
			spans = []Span{{from, to}}
		}
	}
	return j.checks(name, episode, spans, ths, func() string { return j.whyEmpty(name, episode) })
}

// judgeFault returns a check per threshold over the episode's fault phase:
// every stretch its faults were in effect, judged as one.
func (j phaseJudge) judgeFault(ep Episode, ths config.Thresholds) []Check {
	spans := FaultSpans(j.src.Interval(), ep.InEffect)
	return j.checks(PhaseFault, ep.Number, spans, ths, func() string {
		return "the fault phase is empty (one-shot faults only)"
	})
}

// checks judges ths over spans, or skips them saying why when there are
// none.
func (j phaseJudge) checks(phase string, episode int, spans []Span, ths config.Thresholds, why func() string) []Check {
	var w, nw *windowSet
	if len(spans) > 0 {
		from, to := spans[0].From, spans[len(spans)-1].To
		w, nw = newWindowSet(spanSource(j.src, spans), from, to, nil), netWindow(j.net, spans)
	}
	out := make([]Check, 0, len(ths))
	for _, th := range ths {
		c := Check{Name: th.Key, Phase: phase, Episode: episode, Expression: th.Cond.Text, Pos: th.Pos}
		if w == nil {
			c.Skipped, c.Observed = true, "not judged: "+why()
		} else {
			c.Obs = w.evaluate(th)
			c.Observed, c.Passed = c.Obs.String(), c.Obs.Pass
			c.Net = nw.evaluateNet(th)
		}
		out = append(out, c)
	}
	return out
}

// PhaseWindow aligns a phase to the recorder's intervals of length iv. A
// window aggregates the intervals whose start lies in it, and an interval in
// which a fault began or ended holds results from both sides. So the healthy
// phases (baseline, steady) keep only the intervals wholly inside them, and
// a fault phase takes every interval it touches: a result that may have met
// the fault is never judged as steady state.
//
//	intervals  ┼────┼────┼────┼────┼────┼────┼
//	phases          baseline ▲ fault      ▲ steady
//	baseline   ├────────┤                       (floor of the fault's start)
//	fault               ├──────────────┤        (floor … ceil)
func PhaseWindow(iv time.Duration, p Phase) (from, to time.Duration) {
	if p.Name == PhaseFault {
		return alignDown(p.Start, iv), alignUp(p.End, iv)
	}
	return alignUp(p.Start, iv), alignDown(p.End, iv)
}

// FaultSpans aligns the stretches of a fault phase outwards to the
// recorder's intervals (as PhaseWindow does) and merges those that then
// touch: the intervals its checks are judged on.
func FaultSpans(iv time.Duration, in []Span) []Span {
	var out []Span
	for _, sp := range in {
		from, to := PhaseWindow(iv, Phase{Name: PhaseFault, Start: sp.From, End: sp.To})
		if n := len(out); n > 0 && from <= out[n-1].To {
			out[n-1].To = max(out[n-1].To, to)
			continue
		}
		out = append(out, Span{from, to})
	}
	return out
}

// whyEmpty says why a phase has nothing to judge.
func (j phaseJudge) whyEmpty(name string, episode int) string {
	switch name {
	case PhaseBaseline:
		return "no baseline phase (the first fault came before the warm-up ended)"
	case PhaseSteady:
		if _, ok := Find(j.phases, PhaseSteady, episode); !ok {
			return "no steady phase (the service did not recover before " + j.after(episode) + ")"
		}
	}
	return "the " + name + " phase is empty"
}

// after names what ends an episode's observation: the next episode or the
// load end.
func (j phaseJudge) after(episode int) string {
	for _, p := range j.phases {
		if p.Episode == episode+1 {
			return "the next episode"
		}
	}
	return "the load ended"
}

// recoveryCheck is the check of an episode's recovery bound, judged a
// second time on its recovery without the generator's own lateness when
// that was measured.
func recoveryCheck(ep Episode) Check {
	rec := ep.Recovery
	s := rec.Settings
	c := Check{
		Name:    "recovery",
		Phase:   PhaseRecovery,
		Episode: ep.Number,
		Expression: "within " + showSeconds(s.Within) + " (hold " + showSeconds(s.Hold) +
			", window " + showSeconds(s.Window) + ")",
		Observed: rec.Reason,
		Passed:   rec.Passed(),
		Skipped:  rec.Status == RecoveryNotApplicable,
	}
	if net := ep.NetRecovery; net != nil && !c.Skipped {
		c.Net = &Observation{Pass: net.Passed(), Shown: net.Reason}
	}
	return c
}
