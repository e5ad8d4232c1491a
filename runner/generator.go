package runner

import (
	"fmt"
	"time"

	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/metrics"
	"github.com/chaosload/chaosload/slo"
)

// The load generator can only invalidate what it could have changed. Each
// check its own lateness can change is judged again without it (slo); a
// check whose result flips is inconclusive, and so is a phase whose
// offered load the generator fell short of. The generator's lag and CPU
// figures are reported as information and decide nothing.

// judgeGenerator copies the load generator's health into the outcome, as
// information.
func (r *run) judgeGenerator(h load.Health) {
	g := &GeneratorHealth{
		Ops: h.Ops, LagP50MS: ms(h.LagP50), LagP99MS: ms(h.LagP99), LagMaxMS: ms(h.LagMax),
		CPUPeak: h.CPUPeak, CPUSaturatedS: seconds(h.CPUSaturated), Cores: h.Cores,
	}
	if h.Saturated {
		g.Busy = h.Reason
	}
	if r.out.Generator != nil {
		g.Offered = r.out.Generator.Offered // judged with the phases
	}
	r.out.Generator = g
}

// judgeOffered counts, for each judged phase and open-model scenario, the
// arrivals the generator made against those its schedule intended, over the
// intervals the phase is judged on: an episode's fault phase once, over
// every stretch of it (its gaps, judged as nothing, left out).
func (r *run) judgeOffered(phases []slo.Phase, eps []slo.Episode) {
	m := r.m
	if m.offered == nil {
		return
	}
	var offered []OfferedLoad
	for _, p := range phases {
		for _, o := range r.offeredIn(judgedSpans(m.rec.Interval(), p, phases, eps)) {
			o.Phase, o.Episode = p.Name, p.Episode
			offered = append(offered, o)
		}
	}
	if r.out.Generator == nil {
		r.out.Generator = &GeneratorHealth{}
	}
	r.out.Generator.Offered = offered
}

// judgedSpans returns the intervals phase p is judged on: none for the
// warm-up, a gap, an empty phase and all but the first fault phase of an
// episode, which stands for all of them.
func judgedSpans(iv time.Duration, p slo.Phase, phases []slo.Phase, eps []slo.Episode) []slo.Span {
	switch {
	case p.Name == slo.PhaseWarmup || p.Name == slo.PhaseGap || p.End <= p.Start:
		return nil
	case p.Name == slo.PhaseFault:
		if first, _ := slo.Find(phases, p.Name, p.Episode); first != p || p.Episode < 1 || p.Episode > len(eps) {
			return nil
		}
		return slo.FaultSpans(iv, eps[p.Episode-1].InEffect)
	}
	if from, to := slo.PhaseWindow(iv, p); to > from {
		return []slo.Span{{From: from, To: to}}
	}
	return nil
}

// offeredIn sums, for each open-model scenario, what it offered over spans
// and how many of its arrivals there were dropped; nil without spans.
func (r *run) offeredIn(spans []slo.Span) []OfferedLoad {
	m := r.m
	var out []OfferedLoad
	for _, sp := range spans {
		for i, o := range m.offered(sp.From, sp.To) {
			if i == len(out) {
				out = append(out, OfferedLoad{Scenario: o.Scenario})
			}
			out[i].Intended += o.Intended
			out[i].Made += o.Made()
			out[i].Dropped += m.rec.Window(sp.From, sp.To, metrics.Selector{Scenario: o.Scenario}).ByClass[load.ClassDropped]
		}
	}
	for i := range out {
		out[i].Short = float64(out[i].Made) < MinOffered*float64(out[i].Intended)
	}
	return out
}

// withoutLateness is c's second judgement, without the generator's own
// lateness; nil when it was judged once.
func withoutLateness(c slo.Check) *Judgement {
	if c.Net == nil || c.Skipped {
		return nil
	}
	j := &Judgement{Observed: c.Net.String(), Passed: c.Net.Pass}
	if !c.Net.NoData && c.Net.Label != "" {
		v := c.Net.Value
		j.Value = &v
	}
	if late, ok := c.Lateness(); ok {
		j.LatenessMS = &late
	}
	return j
}

// inconclusive names what the generator decides in o: each check and
// recovery whose result flips without its lateness (a stress run's
// capacity check among them, when the level that broke broke only through
// it), and each phase it offered less than its schedule. A stress level
// that broke only through the lateness decides no verdict by itself: the
// breaking point is measured, not judged (its report says it is
// undecided).
func inconclusive(o *Outcome) []string {
	var out []string
	for _, c := range o.Checks {
		if c.Inconclusive {
			out = append(out, flipped(PhaseLabel(c.Phase, c.Episode), c))
		}
	}
	for _, e := range o.Episodes {
		if rec := e.Recovery; rec != nil && rec.Inconclusive {
			out = append(out, recoveryFlipped(PhaseLabel(slo.PhaseRecovery, e.Number), rec))
		}
	}
	if rec := o.Recovery; len(o.Episodes) == 0 && rec != nil && rec.Inconclusive {
		out = append(out, recoveryFlipped(slo.PhaseRecovery, rec)) // a stress run's, after overload
	}
	if g := o.Generator; g != nil {
		for _, off := range g.Offered {
			if off.Short {
				out = append(out, shortfall(off))
			}
		}
	}
	return out
}

// flipped says how a check's result flips: "baseline latency: p(95) < 10ms
// fails with the generator's own lateness (p95 = 51ms) and holds without
// it (p95 = 1ms): its lateness added 50ms".
func flipped(phase string, c Check) string {
	if c.WithoutLateness == nil {
		return phase + " " + c.Name + ": " + c.Observed
	}
	with, without := "fails", "holds"
	if !c.WithoutLateness.Passed {
		with, without = "holds", "fails"
	}
	s := fmt.Sprintf("%s %s %s with the generator's own lateness (%s) and %s without it (%s)",
		phase, c.Name, with, c.Observed, without, c.WithoutLateness.Observed)
	if l := c.WithoutLateness.LatenessMS; l != nil {
		s += ": its lateness added " + showMS(*l)
	}
	return s
}

// recoveryFlipped says how a recovery check flips: "recovery #2 within
// 10s holds with the generator's own lateness (...) and fails without it
// (...)"; label names it.
func recoveryFlipped(label string, r *Recovery) string {
	measured := "recovered in " + showSeconds(r.MeasuredS)
	if r.Detail != "" {
		measured = r.Detail
	}
	with, without := "fails", "holds"
	if !r.WithoutLateness.Passed {
		with, without = "holds", "fails"
	}
	return fmt.Sprintf("%s within %s %s with the generator's own lateness (%s) and %s without it (%s)",
		label, showSeconds(&r.WithinS), with, measured, without, r.WithoutLateness.Observed)
}

// shortfall says how far a phase's offered load fell short.
func shortfall(o OfferedLoad) string {
	return fmt.Sprintf("%s: scenario %q made %d of the %d arrivals it intended (%.1f%%, %d dropped for want of a VU): the generator fell %d short on its own",
		PhaseLabel(o.Phase, o.Episode), o.Scenario, o.Made, o.Intended, 100*float64(o.Made)/float64(o.Intended), o.Dropped, o.Intended-o.Made)
}

// showMS renders milliseconds to three significant digits: "50ms",
// "1.23ms", "1234ms".
func showMS(v float64) string {
	if v >= 100 || v <= -100 {
		return fmt.Sprintf("%.0fms", v)
	}
	return fmt.Sprintf("%.3gms", v)
}

// showSeconds renders seconds: "30s", "2.5s"; "—" for nil.
func showSeconds(s *float64) string {
	if s == nil {
		return "—"
	}
	return (time.Duration(*s * float64(time.Second))).Round(time.Millisecond).String()
}
