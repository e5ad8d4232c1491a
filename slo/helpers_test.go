package slo

import (
	"testing"
	"time"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/metrics"
)

const (
	ms = time.Millisecond
	s  = time.Second
)

// profile says what an operation intended at t did.
type profile func(t time.Duration) (latency time.Duration, class string)

// steady is a healthy service: 20 ms, no errors.
func steady(time.Duration) (time.Duration, string) { return 20 * ms, "" }

// record fills r with rate operations per second over [from, to), each
// doing what p says, as a synthetic open-model load would.
func record(r *metrics.Recorder, from, to time.Duration, rate int, p profile) {
	step := s / time.Duration(rate)
	for t := from; t < to; t += step {
		lat, class := p(t)
		r.Record(&load.Result{Scenario: "shoppers", Step: "browse", Protocol: load.HTTP, Target: "api",
			Intended: t, Start: t + ms/10, End: t + lat, Class: class})
	}
}

// recorder returns a recorder filled by the given spans.
func recorder(spans ...span) *metrics.Recorder {
	r := metrics.NewRecorder(metrics.Config{})
	for _, sp := range spans {
		record(r, sp.from, sp.to, sp.rate, sp.p)
	}
	return r
}

// span is a stretch of synthetic load.
type span struct {
	from, to time.Duration
	rate     int
	p        profile
}

// th parses one threshold, "key: expression".
func th(tb testing.TB, key, expr string) config.Threshold {
	tb.Helper()
	ref, err := config.ParseMetricRef(key)
	if err != nil {
		tb.Fatalf("%s: %v", key, err)
	}
	c, err := config.ParseCondition(ref.Kind, expr)
	if err != nil {
		tb.Fatalf("%s: %v", expr, err)
	}
	return config.Threshold{Metric: ref, Cond: c, Key: key}
}

// steadyState is db-exhaustion's hypothesis: p95 < 100ms, errors < 1%.
func steadyState(tb testing.TB) config.Thresholds {
	return config.Thresholds{th(tb, "latency", "p(95) < 100ms"), th(tb, "errors", "rate < 1%")}
}
