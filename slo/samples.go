package slo

import (
	"slices"
	"time"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/metrics"
)

// Sample is one reading of the monitored target processes (summed over
// them) at an offset of the run, by metric name: target_cpu (percent of one
// core), target_rss (bytes), target_fds, target_threads.
type Sample struct {
	At     time.Duration
	Values map[string]float64
}

// SlopeMetric is the gauge computed from target_rss over a window rather
// than sampled.
const SlopeMetric = "target_rss_slope"

// Sampled reports whether th is judged from samples or probes (JudgeSampled)
// rather than from the load's results (Judge).
func Sampled(th config.Threshold) bool {
	return slices.Contains(config.ResourceMetrics, th.Metric.Name) || slices.Contains(config.ProbeMetrics, th.Metric.Name)
}

// SplitSampled splits ths into those judged from the load's results and
// those judged from samples and probes. Rotation thresholds are in
// neither: the runner judges them per replica, from its proxies' counts.
func SplitSampled(ths config.Thresholds) (results, sampled config.Thresholds) {
	for _, th := range ths {
		if th.Metric.Name == config.RotationMetric {
			continue
		}
		if Sampled(th) {
			sampled = append(sampled, th)
		} else {
			results = append(results, th)
		}
	}
	return results, sampled
}

// EvaluateSamples evaluates a resource threshold over the samples taken in
// [from, to): avg, min, max, or value (the last sample); target_rss_slope is
// the least-squares slope of target_rss in bytes per minute, whatever the
// aggregation. target_cpu is in percent of one core; a condition written in
// % ("max < 70%") is compared as such.
func EvaluateSamples(samples []Sample, th config.Threshold, from, to time.Duration) Observation {
	name := th.Metric.Name
	src := name
	if name == SlopeMetric {
		src = "target_rss"
	}
	var ts, vs []float64
	for _, s := range samples {
		if v, ok := s.Values[src]; ok && s.At >= from && s.At < to {
			ts, vs = append(ts, s.At.Minutes()), append(vs, v)
		}
	}
	obs := Observation{Ops: int64(len(vs)), Label: label(th.Cond)}
	if len(vs) == 0 || (name == SlopeMetric && len(vs) < 2) {
		return noData(obs, "no data: no samples of "+src)
	}
	v := gaugeValue(th.Cond.Agg, vs)
	if name == SlopeMetric {
		v, obs.Label = slope(ts, vs), "slope"
	}
	obs.Value = v
	if th.Cond.Unit == config.UnitPercent {
		obs.Value = v / 100
	}
	obs.Shown, obs.Pass = showGauge(name, v), th.Cond.Holds(obs.Value)
	return obs
}

// gaugeValue aggregates vs (in time order).
func gaugeValue(agg config.Agg, vs []float64) float64 {
	switch agg {
	case config.AggMin:
		return slices.Min(vs)
	case config.AggMax:
		return slices.Max(vs)
	case config.AggAvg:
		sum := 0.0
		for _, v := range vs {
			sum += v
		}
		return sum / float64(len(vs))
	}
	return vs[len(vs)-1]
}

// slope is the least-squares slope of vs over ts:
//
//	b = Σ(t−t̄)(v−v̄) / Σ(t−t̄)²
func slope(ts, vs []float64) float64 {
	n := float64(len(ts))
	var tm, vm float64
	for i := range ts {
		tm, vm = tm+ts[i]/n, vm+vs[i]/n
	}
	var num, den float64
	for i := range ts {
		num += (ts[i] - tm) * (vs[i] - vm)
		den += (ts[i] - tm) * (ts[i] - tm)
	}
	if den == 0 {
		return 0
	}
	return num / den
}

// showGauge renders a resource value in its unit.
func showGauge(name string, v float64) string {
	switch name {
	case "target_cpu":
		return sig(v, 3) + "%"
	case "target_rss":
		return showBytes(v)
	case SlopeMetric:
		return showBytes(v) + "/min"
	}
	return sig(v, 3)
}

// showBytes renders a byte count in MB (10^6) or KB: "412MB", "-1.2MB".
func showBytes(v float64) string {
	switch a := max(v, -v); {
	case a >= 1e6:
		return sig(v/1e6, 3) + "MB"
	case a >= 1e3:
		return sig(v/1e3, 3) + "KB"
	}
	return sig(v, 3) + "B"
}

// EvaluateProbe evaluates a probe threshold over [from, to) of src, the
// probes' recorder, in which each attempt is an operation whose step is the
// probe's name: probe_ok is the share of attempts that succeeded,
// probe_latency the attempts' latency.
func EvaluateProbe(src Source, th config.Threshold, from, to time.Duration) Observation {
	probe := th.Metric.Tag("probe")
	if th.Metric.Name == "probe_latency" {
		lat := th
		lat.Metric = config.MetricRef{Name: "latency", Kind: config.Trend}
		if probe != "" {
			lat.Metric.Tags = []config.Tag{{Key: "step", Value: probe}}
		}
		return Evaluate(src, lat, from, to)
	}
	agg := src.Window(from, to, metrics.Selector{Step: probe})
	obs := Observation{Ops: agg.Ops, Label: label(th.Cond)}
	if agg.Ops == 0 {
		return noData(obs, "no data: no probe attempts")
	}
	ok := agg.Ops - agg.Errors
	if th.Cond.Agg == config.AggCount {
		obs.Value = float64(ok)
		return judged(th.Cond, obs, itoa(ok))
	}
	obs.Value = float64(ok) / float64(agg.Ops)
	return judged(th.Cond, obs, showValue(th, obs.Value)+" ("+itoa(ok)+"/"+itoa(agg.Ops)+")")
}

// SampledSource holds what JudgeSampled reads: the monitor's samples and the
// probes' recorder (either may be empty or nil).
type SampledSource struct {
	Samples []Sample
	Probes  Source
}

// Evaluate evaluates a sampled threshold over [from, to).
func (s SampledSource) Evaluate(th config.Threshold, from, to time.Duration) Observation {
	if slices.Contains(config.ProbeMetrics, th.Metric.Name) {
		if s.Probes == nil {
			return noData(Observation{}, "no data: no probes ran")
		}
		return EvaluateProbe(s.Probes, th, from, to)
	}
	return EvaluateSamples(s.Samples, th, from, to)
}

// JudgeSampled judges the sampled thresholds (resource and probe metrics)
// the way Judge judges the others, over the phases and episodes of v: the
// thresholds of spec in the baseline and each steady phase, each episode's
// degradation over its fault phase (every stretch of it, unaligned: samples
// and probes are not bucketed by intended start). Recovery is measured on
// the load's results alone.
func JudgeSampled(src SampledSource, spec Spec, v Verdict) []Check {
	_, ths := SplitSampled(spec.Thresholds)
	var out []Check
	for _, p := range v.Phases {
		switch {
		case p.Name == PhaseBaseline || p.Name == PhaseSteady:
			for _, th := range ths {
				out = append(out, SampledCheck(src, th, p.Name, p.Start, p.End))
				out[len(out)-1].Episode = p.Episode
			}
		case p.Name == PhaseFault && isFirst(v.Phases, p):
			out = append(out, sampledFault(src, v.Episodes[p.Episode-1])...)
		}
	}
	return out
}

// isFirst reports whether p is the first phase of its name and episode.
func isFirst(phases []Phase, p Phase) bool {
	first, _ := Find(phases, p.Name, p.Episode)
	return first == p
}

// sampledFault judges an episode's sampled degradation over its fault phase;
// skipped when it has none (one-shot faults only).
func sampledFault(src SampledSource, ep Episode) []Check {
	_, deg := SplitSampled(ep.Degradation)
	var out []Check
	for _, th := range deg {
		c := Check{Name: th.Key, Phase: PhaseFault, Episode: ep.Number, Expression: th.Cond.Text, Pos: th.Pos}
		if len(ep.InEffect) == 0 {
			c.Skipped, c.Observed = true, "not judged: the fault phase is empty (one-shot faults only)"
		} else {
			c.Obs = src.evaluateSpans(th, ep.InEffect)
			c.Observed, c.Passed = c.Obs.String(), c.Obs.Pass
		}
		out = append(out, c)
	}
	return out
}

// evaluateSpans evaluates a sampled threshold over the stretches spans.
func (s SampledSource) evaluateSpans(th config.Threshold, spans []Span) Observation {
	from, to := spans[0].From, spans[len(spans)-1].To
	if s.Probes != nil {
		s.Probes = spanSource(s.Probes, spans)
	}
	var in []Sample
	for _, sm := range s.Samples {
		if inSpans(spans, sm.At) {
			in = append(in, sm)
		}
	}
	s.Samples = in
	return s.Evaluate(th, from, to)
}

// inSpans reports whether t lies in one of spans.
func inSpans(spans []Span, t time.Duration) bool {
	for _, sp := range spans {
		if t >= sp.From && t < sp.To {
			return true
		}
	}
	return false
}

// SampledCheck judges one sampled threshold over [from, to) as a check of
// phase.
func SampledCheck(src SampledSource, th config.Threshold, phase string, from, to time.Duration) Check {
	obs := src.Evaluate(th, from, to)
	return Check{
		Name: th.Key, Phase: phase, Expression: th.Cond.Text, Observed: obs.String(),
		Passed: obs.Pass, Obs: obs, Pos: th.Pos,
	}
}

// Slope returns the least-squares slope of metric over the samples in
// [from, to), per minute; ok is false with fewer than two samples.
func Slope(samples []Sample, metric string, from, to time.Duration) (perMinute float64, ok bool) {
	var ts, vs []float64
	for _, s := range samples {
		if v, has := s.Values[metric]; has && s.At >= from && s.At < to {
			ts, vs = append(ts, s.At.Minutes()), append(vs, v)
		}
	}
	if len(vs) < 2 {
		return 0, false
	}
	return slope(ts, vs), true
}
