package slo

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/metrics"
)

// TestEvaluate evaluates thresholds over one second of 100 operations:
// latencies 1..100 ms; the last 10 timeouts, the 5 before them 5xx; plus
// 5 dropped arrivals (no latency).
func TestEvaluate(t *testing.T) {
	t.Parallel()
	p := func(at time.Duration) (time.Duration, string) {
		i := int(at / (10 * ms))
		class := ""
		switch {
		case i >= 90:
			class = load.ClassTimeout
		case i >= 85:
			class = load.ClassHTTP5xx
		}
		return time.Duration(i+1) * ms, class
	}
	r := recorder(span{0, s, 100, p}, span{0, 500 * ms, 10, func(time.Duration) (time.Duration, string) {
		return 0, load.ClassDropped
	}})
	tests := []struct {
		name, key, expr string
		from, to        time.Duration
		value           float64 // NaN: don't check
		pass, noData    bool
		shown           string // substring of String()
	}{
		// the 95th of 1..100 ms
		{"p95", "latency", "p(95) < 100ms", 0, s, 95, true, false, "p95 = 95ms"},
		// the same bound, written in seconds, failing
		{"p95 fails", "latency", "p(95) < 0.05s", 0, s, 95, false, false, "p95 = 95ms"},
		// fractional percentiles
		{"p99.9", "latency", "p(99.9) <= 101ms", 0, s, 100, true, false, "p99.9 = 100ms"},
		// HDR reports a bucket's highest value (here 100.031ms): never below the
		// exact value, so rounding cannot pass a bound
		{"p100 conservative", "latency", "p(100) <= 100ms", 0, s, 100.031, false, false, "p100 = 100ms"},
		// median
		{"med", "latency", "med < 51ms", 0, s, 50, true, false, "med = 50ms"},
		// mean of 1..100 is 50.5 (HDR midpoints: within 0.1%)
		{"avg", "latency", "avg < 60ms", 0, s, 50.5, true, false, "avg = 50.5ms"},
		// min and max
		{"min", "latency", "min >= 1ms", 0, s, 1, true, false, "min = 1ms"},
		{"max", "latency", "max < 2s", 0, s, 100, true, false, "max = 100ms"},
		// a trend's count counts timed operations (dropped ones never ran)
		{"trend count", "latency", "count == 100", 0, s, 100, true, false, "count = 100"},
		// errors: 15 classed + 5 dropped over 105 ops
		{"error rate", "errors", "rate < 1%", 0, s, 20.0 / 105, false, false, "rate = 19% (20/105)"},
		// a rate written as a fraction shows as one
		{"error rate fraction", "errors", "rate < 0.5", 0, s, 20.0 / 105, true, false, "rate = 0.19 (20/105)"},
		// errors{class:X}: class X over all ops
		{"class rate", "errors{class:timeout}", "rate < 10%", 0, s, 10.0 / 105, true, false, "rate = 9.52% (10/105)"},
		// error count of one class
		{"class count", "errors{class:http_5xx}", "count == 0", 0, s, 5, false, false, "count = 5"},
		// no error of a class: count 0 holds
		{"absent class count", "errors{class:conn_reset}", "count == 0", 0, s, 0, true, false, "count = 0"},
		// latency of one class: timeouts took 91..100 ms
		{"class latency", "latency{class:timeout}", "p(50) < 2s", 0, s, 95, true, false, "p50 = 95ms"},
		// latency of a class that never happened holds vacuously
		{"absent class latency", "latency{class:conn_reset}", "p(95) < 2s", 0, s, 0, true, false, "no conn_reset results"},
		// ops per second over the window's span
		{"ops rate", "ops", "rate >= 100/s", 0, s, 105, true, false, "rate = 105/s"},
		// ops rate over a 2 s window holding 1 s of load
		{"ops rate long window", "ops", "rate >= 100/s", 0, 2 * s, 52.5, false, false, "rate = 52.5/s"},
		// dropped arrivals
		{"dropped", "dropped", "count < 10", 0, s, 5, true, false, "count = 5"},
		// service time is recorded too (every op: latency - 0.1ms)
		{"service time", "service_time", "max < 100ms", 0, s, 99.9, true, false, "max = 99.9ms"},
		// dispatch lag: 0.1 ms each
		{"dispatch lag", "dispatch_lag", "p(99) < 1ms", 0, s, 0.1, true, false, "p99 = 0.1ms"},
		// a window without operations is no evidence: it fails
		{"empty window", "latency", "p(95) < 100ms", 5 * s, 6 * s, 0, false, true, "no data"},
		// even a condition an empty window would satisfy
		{"empty window count", "errors", "count == 0", 5 * s, 6 * s, 0, false, true, "no data"},
		// tags that select nothing are no data too
		{"no such step", "latency{step:checkout}", "p(95) < 100ms", 0, s, 0, false, true, "no data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			obs := Evaluate(r, th(t, tt.key, tt.expr), tt.from, tt.to)
			if plain := Evaluate(windowOnly{r}, th(t, tt.key, tt.expr), tt.from, tt.to); plain != obs {
				t.Errorf("a Source with Window only observes %+v, the recorder %+v", plain, obs)
			}
			if obs.Pass != tt.pass || obs.NoData != tt.noData {
				t.Errorf("pass %v noData %v, want %v %v (%s)", obs.Pass, obs.NoData, tt.pass, tt.noData, obs)
			}
			if !math.IsNaN(tt.value) && math.Abs(obs.Value-tt.value) > math.Max(tt.value*0.001, 1e-3) {
				t.Errorf("value %v, want %v", obs.Value, tt.value)
			}
			if !strings.Contains(obs.String(), tt.shown) {
				t.Errorf("shown %q, want %q", obs.String(), tt.shown)
			}
		})
	}
}

func TestShowValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key, expr string
		v         float64
		want      string
	}{
		{"latency", "p(95) < 1s", 340, "340ms"},      // milliseconds
		{"latency", "p(95) < 1s", 12.53, "12.5ms"},   // three significant digits
		{"latency", "p(95) < 1s", 2345, "2.35s"},     // seconds from 1000ms
		{"latency", "p(95) < 1s", 0.4123, "0.412ms"}, // sub-millisecond
		{"errors", "rate < 1%", 0.125, "12.5%"},      // percent
		{"errors", "rate < 1%", 1, "100%"},           // all
		{"errors", "rate < 0.01", 0.125, "0.125"},    // a fraction as written
		{"ops", "rate > 100/s", 1234.6, "1235/s"},    // per second
		{"errors", "count < 10", 7, "7"},             // counts are integers
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := showValue(th(t, tt.key, tt.expr), tt.v); got != tt.want {
				t.Errorf("showValue(%v) = %q, want %q", tt.v, got, tt.want)
			}
		})
	}
}

// windowOnly is a Source with nothing but the interface's two methods, so
// the judge takes its fallback path (every histogram built).
type windowOnly struct{ r *metrics.Recorder }

func (w windowOnly) Window(from, to time.Duration, sel metrics.Selector) metrics.Aggregate {
	return w.r.Window(from, to, sel)
}

func (w windowOnly) Interval() time.Duration { return w.r.Interval() }
