package runner

import (
	"fmt"
	"sort"
	"time"

	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/metrics"
	"github.com/chaosload/chaosload/slo"
)

// judge turns what was measured into phases, checks, recovery, totals and
// intervals. It runs after the load has ended, on every path that measured
// something.
func (r *run) judge() {
	m := r.m
	if m == nil {
		return
	}
	r.out.DurationS = seconds(m.loadEnd)
	if r.exp.Stress != nil {
		r.judgeStress()
	} else {
		r.judgePhases()
	}
	r.out.Totals = totals(m.rec.Window(0, m.loadEnd+time.Hour, metrics.Selector{}))
	r.out.Steps = steps(m.rec, r.exp, 0, m.loadEnd+time.Hour)
	r.intervals()
	r.out.Inconclusive = inconclusive(r.out)
}

// judgePhases judges an ordinary run: the faults grouped into episodes,
// phases cut by them, the thresholds and each episode's degradation over
// them, each episode's recovery.
func (r *run) judgePhases() {
	m := r.m
	v := slo.Judge(m.rec, slo.Spec{
		Thresholds:  r.exp.Thresholds,
		Degradation: r.exp.Degradation,
		Recovery:    r.exp.Recovery,
		PerFault:    perFault(r.exp),
		Timeline: slo.Timeline{
			Warmup:  r.exp.WarmupOrDefault(),
			LoadEnd: m.loadEnd,
			Faults:  faultWindows(m.records, m.loadEnd),
		},
		Net: m.rec.WithoutLateness(),
	})
	for _, p := range v.Phases {
		r.out.Phases = append(r.out.Phases, phaseStats(m.rec, p))
	}
	for _, c := range v.Checks {
		if c.Name == "recovery" {
			continue // reported as each episode's Recovery
		}
		r.out.Checks = append(r.out.Checks, check(c))
	}
	r.judgeSampled(v)
	r.judgeFaultEffects(v.Episodes) // faulteffect.go
	r.out.Traffic = m.traffic.traffic()
	fillPhaseWork(r.out.Traffic, r.out.Phases)
	rot := r.rotations(v.Episodes, r.out.Traffic)
	r.judgeRotation(v.Episodes, rot)
	r.out.Recovery = recovery(v.Recovery, v.NetRecovery)
	r.out.Episodes = episodes(m.rec, v.Episodes, r.out.Checks)
	for i := range r.out.Episodes {
		r.out.Episodes[i].Rotation = rot[r.out.Episodes[i].Number]
	}
	r.warnClosedModel(v.Recovery)
	r.judgeOffered(v.Phases, v.Episodes)
}

// intervals fills the per-interval series, for charts.
func (r *run) intervals() {
	m := r.m
	r.out.IntervalS = seconds(m.rec.Interval())
	for _, iv := range m.rec.Intervals() {
		r.out.Intervals = append(r.out.Intervals, Interval{
			TS: seconds(iv.T), Ops: iv.Ops, Errors: iv.Errors,
			P50MS: ms(iv.P50), P95MS: ms(iv.P95), P99MS: ms(iv.P99),
			ByClass: iv.ByClass,
		})
	}
	m.samples.fill(r.out.Intervals, m.rec.Interval())
	fillResources(r.out, m.side.samples(), m.rec.Interval())
	m.side.fillProcesses(r.out.Resources)
	m.side.fillTrend(r.out.Resources, r.exp.WarmupOrDefault())
	r.judgeGenerator(m.health)
}

// phaseStats is p with what its operations did: counts, rates and latency
// percentiles over the intervals judged as the phase.
func phaseStats(rec *metrics.Recorder, p slo.Phase) Phase {
	out := Phase{Name: p.Name, StartS: seconds(p.Start), EndS: seconds(p.End), Episode: p.Episode}
	if p.End <= p.Start {
		return out
	}
	from, to := slo.PhaseWindow(rec.Interval(), p)
	fillStats(&out, rec.Window(from, to, metrics.Selector{}), rec.WithoutLateness().Window(from, to, metrics.Selector{}))
	return out
}

// fillStats sets p's figures from the aggregate of its operations, and
// from net, the same less the generator's own lateness, its p95 without
// that lateness.
func fillStats(p *Phase, a, net metrics.Aggregate) {
	p.Ops, p.Errors, p.Dropped = a.Ops, a.Errors, a.ByClass[load.ClassDropped]
	if a.Span > 0 {
		p.OpsPerS = a.Rate()
		p.OKPerS = float64(a.Ops-a.Errors) / a.Span.Seconds()
	}
	if a.Latency != nil && a.Latency.TotalCount() > 0 {
		p.P50MS = ms(metrics.Micros(a.Latency.ValueAtQuantile(50)))
		p.P95MS = ms(metrics.Micros(a.Latency.ValueAtQuantile(95)))
		p.P99MS = ms(metrics.Micros(a.Latency.ValueAtQuantile(99)))
		if net.Latency != nil && net.Latency.TotalCount() > 0 {
			p95 := ms(metrics.Micros(net.Latency.ValueAtQuantile(95)))
			p.P95WithoutLatenessMS = &p95
		}
	}
}

// faultWindows keeps the faults that were applied, in effect from the
// completion of their apply to the completion of their revert. A fault whose
// revert failed (or never ran) counts as in effect until the load ended:
// recovery must not be measured while it may still hold.
func faultWindows(recs []faults.Record, loadEnd time.Duration) []slo.FaultWindow {
	var ws []slo.FaultWindow
	for _, rec := range recs {
		if !rec.WasApplied {
			continue
		}
		end := rec.Reverted
		if !rec.WasReverted || rec.RevertErr != nil {
			end = max(loadEnd, rec.Applied)
		}
		ws = append(ws, slo.FaultWindow{Name: rec.Name, Applied: rec.Applied, Reverted: end})
	}
	return ws
}

func check(c slo.Check) Check {
	out := Check{
		Name: c.Name + ": " + c.Expression, Phase: c.Phase, Episode: c.Episode, Expression: c.Expression,
		Observed: c.Observed, Passed: c.Passed && !c.Flipped(), Skipped: c.Skipped,
		Inconclusive: c.Flipped(), WithoutLateness: withoutLateness(c),
	}
	if !c.Skipped && !c.Obs.NoData {
		v := c.Obs.Value
		out.Value = &v
	}
	return out
}

// recovery converts the measurement, and net, the same measured without
// the generator's own lateness (nil when not measured); nil when there was
// nothing to recover from.
func recovery(rr slo.RecoveryResult, net *slo.RecoveryResult) *Recovery {
	if !rr.Applicable() {
		return nil
	}
	out := &Recovery{
		WithinS: seconds(rr.Settings.Within), HoldS: seconds(rr.Settings.Hold), WindowS: seconds(rr.Settings.Window),
		Passed: rr.Passed(), FaultEndS: seconds(rr.FaultEnd), Flaps: rr.Flaps,
		MeasuredS:  secondsPtr(rr.Time, rr.Measured()),
		FirstGoodS: secondsPtr(rr.FirstGood, rr.HasFirstGood),
	}
	if !rr.Passed() {
		out.Detail = rr.Reason
	}
	if net != nil {
		out.WithoutLateness = &Judgement{Observed: net.Reason, Passed: net.Passed(), MeasuredS: secondsPtr(net.Time, net.Measured())}
		out.Inconclusive = net.Passed() != rr.Passed()
		out.Passed = out.Passed && !out.Inconclusive
	}
	return out
}

// warnClosedModel says when a recovery bound was judged under closed-model
// load, where a stalled dependency lowers the offered load and hides
// recovery problems.
func (r *run) warnClosedModel(rr slo.RecoveryResult) {
	if !rr.Applicable() {
		return
	}
	for i := range r.exp.Scenarios {
		s := &r.exp.Scenarios[i]
		if !s.OpenModel() {
			r.out.Warnings = append(r.out.Warnings, fmt.Sprintf(
				"scenario %q uses %s (a closed model): a stalled dependency lowers its offered load, which can hide recovery problems; prefer an arrival-rate executor when judging recovery",
				s.Name, s.Executor))
		}
	}
}

func totals(a metrics.Aggregate) Totals {
	t := Totals{Ops: a.Ops, Errors: a.Errors, ByClass: map[string]int64{}}
	classes := make([]string, 0, len(a.ByClass))
	for c := range a.ByClass {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	for _, c := range classes {
		t.ByClass[c] = a.ByClass[c]
	}
	t.Dropped = a.ByClass[load.ClassDropped]
	return t
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
