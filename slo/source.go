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
