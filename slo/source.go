package slo

import (
	"time"

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

// SelectorOf returns the series a threshold's metric key selects.
func SelectorOf(ref config.MetricRef) metrics.Selector {
	return metrics.Selector{
		Scenario: ref.Tag("scenario"),
		Step:     ref.Tag("step"),
		Protocol: ref.Tag("protocol"),
		Target:   ref.Tag("target"),
		Class:    ref.Tag("class"),
	}
}

// windowSet evaluates thresholds over one window [from, to), aggregating
// each selector once however many thresholds share it (latency and errors
// of the same tags share one aggregate).
type windowSet struct {
	src      Source
	from, to time.Duration
	aggs     map[metrics.Selector]metrics.Aggregate
}

func newWindowSet(src Source, from, to time.Duration) *windowSet {
	return &windowSet{src: src, from: from, to: to}
}

// get returns the aggregate of sel over the window.
func (w *windowSet) get(sel metrics.Selector) metrics.Aggregate {
	if a, ok := w.aggs[sel]; ok {
		return a
	}
	if w.aggs == nil {
		w.aggs = make(map[metrics.Selector]metrics.Aggregate, 2)
	}
	a := w.src.Window(w.from, w.to, sel)
	w.aggs[sel] = a
	return a
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
