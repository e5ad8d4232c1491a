package slo

import (
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/metrics"
)

// Source is where judgement reads results: *metrics.Recorder.
type Source interface {
	// Window aggregates the intervals whose start lies in [from, to) over
	// the selected series.
	Window(from, to time.Duration, sel metrics.Selector) metrics.Aggregate
	// Interval is the resolution of windows (at most 250 ms).
	Interval() time.Duration
}

// SelectorOf returns the series a threshold's metric key selects: the
// kind of result the metric reads (metrics.Defs), narrowed by its tags.
func SelectorOf(ref config.MetricRef) metrics.Selector {
	return metrics.Selector{
		Kind:      metrics.Defs[ref.Name].Kind,
		Scenario:  ref.Tag("scenario"),
		Step:      ref.Tag("step"),
		Protocol:  ref.Tag("protocol"),
		Target:    ref.Tag("target"),
		Class:     ref.Tag("class"),
		Direction: ref.Tag("direction"),
	}
}

// alignUp rounds d up to a multiple of step.
func alignUp(d, step time.Duration) time.Duration {
	if r := d % step; r != 0 {
		if d > 0 {
			return d - r + step
		}
		return d - r
	}
	return d
}

// alignDown rounds d down to a multiple of step.
func alignDown(d, step time.Duration) time.Duration {
	if r := d % step; r != 0 {
		if d < 0 {
			return d - r - step
		}
		return d - r
	}
	return d
}

// spanSource returns src restricted to spans (in order, not overlapping): a
// window then aggregates only the intervals that start inside one of them.
// With one span the window itself is the restriction.
func spanSource(src Source, spans []Span) Source {
	if len(spans) <= 1 {
		return src
	}
	return unionSource{src, spans}
}

// unionSource is a Source whose windows see only the intervals in spans.
type unionSource struct {
	src   Source
	spans []Span
}

func (u unionSource) Interval() time.Duration { return u.src.Interval() }

// Window merges src's windows over the parts of [from, to) inside spans.
func (u unionSource) Window(from, to time.Duration, sel metrics.Selector) metrics.Aggregate {
	out := metrics.Aggregate{Latency: metrics.NewHistogram(), ServiceTime: metrics.NewHistogram(), DispatchLag: metrics.NewHistogram()}
	for _, sp := range u.spans {
		if f, t := max(from, sp.From), min(to, sp.To); t > f {
			addAggregate(&out, u.src.Window(f, t, sel))
		}
	}
	return out
}

// addAggregate adds a's counts and timings to dst, whose histograms are
// all set.
func addAggregate(dst *metrics.Aggregate, a metrics.Aggregate) {
	dst.Ops += a.Ops
	dst.Errors += a.Errors
	dst.Conns += a.Conns
	dst.Span += a.Span
	for c, n := range a.ByClass {
		if dst.ByClass == nil {
			dst.ByClass = map[string]int64{}
		}
		dst.ByClass[c] += n
	}
	for _, h := range [][2]*hdrhistogram.Histogram{{dst.Latency, a.Latency}, {dst.ServiceTime, a.ServiceTime}, {dst.DispatchLag, a.DispatchLag}} {
		if h[1] != nil {
			h[0].Merge(h[1])
		}
	}
}

// WindowOver aggregates src over spans, for the figures of a fault phase
// of several stretches (FaultSpans).
func WindowOver(src Source, spans []Span, sel metrics.Selector) metrics.Aggregate {
	if len(spans) == 0 {
		return metrics.Aggregate{}
	}
	return spanSource(src, spans).Window(spans[0].From, spans[len(spans)-1].To, sel)
}
