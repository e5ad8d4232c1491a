package slo

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/metrics"
)

// TestCatalogueInStep: every metric a threshold may name is measured
// (metrics.Defs) and aggregates as its kind says: a trend reads a
// histogram, a ratio the share of errors, a counter a count.
func TestCatalogueInStep(t *testing.T) {
	t.Parallel()
	for name, kind := range config.Metrics {
		if slices.Contains(config.ResourceMetrics, name) || slices.Contains(config.ProbeMetrics, name) || name == config.RotationMetric {
			continue // sampled beside the load, judged by JudgeSamples (samples.go)
		}
		def, ok := metrics.Defs[name]
		if !ok {
			t.Errorf("%s is in config.Metrics but not measured (metrics.Defs)", name)
			continue
		}
		want := map[config.MetricKind]func(metrics.Quantity) bool{
			config.Trend:   metrics.Quantity.Timing,
			config.Ratio:   func(q metrics.Quantity) bool { return q == metrics.Errors },
			config.Counter: func(q metrics.Quantity) bool { return !q.Timing() && q != metrics.Errors },
		}[kind]
		if want == nil || !want(def.Quantity) {
			t.Errorf("%s: kind %v does not fit quantity %v", name, kind, def.Quantity)
		}
	}
	for name := range metrics.Defs {
		if _, ok := config.Metrics[name]; !ok {
			t.Errorf("%s is measured but thresholds cannot name it (config.Metrics)", name)
		}
	}
}

// wsRecorder holds one second of a WebSocket scenario beside HTTP load:
// 100 HTTP operations, each establishing a connection; 10 ws steps (each a
// connection), their connects taking 1..10 ms; 200 messages sent with round
// trips 1..200 ms and 300 received (untimed).
func wsRecorder() *metrics.Recorder {
	r := recorder(span{0, s, 100, steady})
	for i := range 100 { // the same operations again, now counted as connections
		r.Record(&load.Result{Scenario: "shoppers", Step: "browse", Protocol: load.HTTP, Target: "api",
			Intended: time.Duration(i) * 10 * ms, End: time.Duration(i)*10*ms + ms, NewConns: 1})
	}
	ws := func(kind load.Kind, at, lat time.Duration) *load.Result {
		return &load.Result{Kind: kind, Scenario: "chat", Step: "feed", Protocol: "ws", Target: "api",
			Intended: at, Start: at, End: at + lat}
	}
	for i := range 10 {
		op := ws(load.KindOp, time.Duration(i)*100*ms, 50*ms)
		op.NewConns = 1
		r.Record(op)
		r.Record(ws(load.KindWSConnect, time.Duration(i)*100*ms, time.Duration(i+1)*ms))
	}
	for i := range 200 {
		m := ws(load.KindWSMessage, time.Duration(i)*5*ms, time.Duration(i+1)*ms)
		m.Direction = load.DirectionSent
		r.Record(m)
	}
	for i := range 300 {
		m := ws(load.KindWSMessage, time.Duration(i)*3*ms, 0)
		m.Direction, m.Untimed = load.DirectionReceived, true
		r.Record(m)
	}
	return r
}

// TestEvaluateKinds evaluates the metrics of other kinds than step
// operations, and checks they do not leak into the operations' own.
func TestEvaluateKinds(t *testing.T) {
	t.Parallel()
	r := wsRecorder()
	tests := []struct {
		name, key, expr string
		value           float64
		pass, noData    bool
		shown           string
	}{
		// 100 + 10 connections in 1 s
		{"conn rate", "conn_rate", "rate >= 50/s", 110, true, false, "rate = 110/s"},
		// one protocol's connections
		{"conn rate ws", "conn_rate{protocol:ws}", "rate >= 50/s", 10, false, false, "rate = 10/s"},
		// connections as a count
		{"conn count", "conn_rate{scenario:shoppers}", "count == 100", 100, true, false, "count = 100"},
		// connect times 1..10 ms
		{"ws connect", "ws_connect", "p(95) < 100ms", 10, true, false, "p95 = 10ms"},
		// round trips 1..200 ms, only the sent messages are timed
		{"ws rtt", "ws_rtt", "p(95) < 100ms", 190, false, false, "p95 = 190ms"},
		// both ways: 500 messages per second
		{"ws msgs", "ws_msgs", "rate >= 500/s", 500, true, false, "rate = 500/s"},
		// one way each
		{"ws sent", "ws_msgs{direction:sent}", "rate >= 1000/s", 200, false, false, "rate = 200/s"},
		{"ws received", "ws_msgs{direction:received}", "count == 300", 300, true, false, "count = 300"},
		// messages are not operations: 100 + 100 + 10 step results
		{"ops unchanged", "ops", "count == 210", 210, true, false, "count = 210"},
		// nor are they in the latency of operations (20 ms and 1 ms and 50 ms)
		{"latency unchanged", "latency", "max < 51ms", 50, true, false, "max = 50ms"},
		// a ws scenario without messages of a kind: no data
		{"no rtt in shoppers", "ws_rtt{scenario:shoppers}", "p(95) < 100ms", 0, false, true, "no data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			obs := Evaluate(r, th(t, tt.key, tt.expr), 0, s)
			if plain := Evaluate(windowOnly{r}, th(t, tt.key, tt.expr), 0, s); plain != obs {
				t.Errorf("a Source with Window only observes %+v, the recorder %+v", plain, obs)
			}
			if obs.Pass != tt.pass || obs.NoData != tt.noData {
				t.Errorf("pass %v noData %v, want %v %v (%s)", obs.Pass, obs.NoData, tt.pass, tt.noData, obs)
			}
			if math.Abs(obs.Value-tt.value) > math.Max(tt.value*0.001, 1e-3) {
				t.Errorf("value %v, want %v", obs.Value, tt.value)
			}
			if !strings.Contains(obs.String(), tt.shown) {
				t.Errorf("shown %q, want %q", obs.String(), tt.shown)
			}
		})
	}
}
