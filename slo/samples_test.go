package slo

import (
	"testing"
	"time"

	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/metrics"
)

// rssSamples is one sample a second for a minute: RSS growing by grow
// bytes a minute from 100 MB, CPU alternating 40 and 60 percent.
func rssSamples(grow float64) []Sample {
	var out []Sample
	for i := range 61 {
		cpu := 40.0
		if i%2 == 1 {
			cpu = 60
		}
		out = append(out, Sample{At: time.Duration(i) * s, Values: map[string]float64{
			"target_rss": 100e6 + grow*float64(i)/60, "target_cpu": cpu, "target_fds": float64(20 + i%3),
		}})
	}
	return out
}

func TestEvaluateSamples(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		key, expr  string
		grow       float64
		from, to   time.Duration
		want       float64
		pass, none bool
	}{
		// a steady leak of 6 MB a minute is measured as such
		{"slope of a leak", "target_rss_slope", "value < 1MB", 6e6, 0, 61 * s, 6e6, false, false},
		// flat RSS has no slope
		{"flat rss", "target_rss_slope", "value < 1MB", 0, 0, 61 * s, 0, true, false},
		// max RSS over the window, in bytes
		{"max rss", "target_rss", "max < 500MB", 6e6, 0, 61 * s, 106e6, true, false},
		// CPU in percent of one core: avg of 40 and 60
		{"avg cpu", "target_cpu", "avg < 70", 0, 0, 60 * s, 50, true, false},
		// a % condition compares the same percent
		{"max cpu in %", "target_cpu", "max < 50%", 0, 0, 60 * s, 0.6, false, false},
		// fds: the last sample in the window
		{"last fds", "target_fds", "value <= 21", 0, 0, 10 * s, 20, true, false},
		// nothing sampled in the window: no data, fails
		{"no samples", "target_cpu", "max < 70", 0, 100 * s, 200 * s, 0, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			obs := EvaluateSamples(rssSamples(c.grow), th(t, c.key, c.expr), c.from, c.to)
			if obs.NoData != c.none || obs.Pass != c.pass {
				t.Fatalf("%s: nodata=%v pass=%v (%s), want nodata=%v pass=%v", c.expr, obs.NoData, obs.Pass, obs, c.none, c.pass)
			}
			if !c.none && (obs.Value < c.want*0.999-1e-9 || obs.Value > c.want*1.001+1e-9) {
				t.Errorf("%s: value %v, want %v (%s)", c.expr, obs.Value, c.want, obs)
			}
		})
	}
}

// TestEvaluateProbe: probe_ok is the share of attempts that succeeded,
// probe_latency their latency, selected per probe.
func TestEvaluateProbe(t *testing.T) {
	t.Parallel()
	r := metrics.NewRecorder(metrics.Config{})
	for i := range 10 {
		at := time.Duration(i) * s
		res := &load.Result{Step: "health", Intended: at, Start: at, End: at + 5*ms}
		if i >= 8 {
			res.Class, res.End = load.ClassTimeout, at+time.Second
		}
		r.Record(res)
		r.Record(&load.Result{Step: "db", Intended: at, Start: at, End: at + 50*ms})
	}
	if obs := EvaluateProbe(r, th(t, "probe_ok{probe:health}", "rate > 90%"), 0, 10*s); obs.Pass || obs.Value != 0.8 {
		t.Errorf("health ok = %v (%s), want 0.8 failing", obs.Value, obs)
	}
	if obs := EvaluateProbe(r, th(t, "probe_ok{probe:db}", "rate > 99%"), 0, 10*s); !obs.Pass || obs.Value != 1 {
		t.Errorf("db ok = %v (%s), want 1 holding", obs.Value, obs)
	}
	if obs := EvaluateProbe(r, th(t, "probe_latency{probe:db}", "p(95) < 20ms"), 0, 10*s); obs.Pass || obs.Value < 50 {
		t.Errorf("db latency = %v (%s), want ~50ms failing", obs.Value, obs)
	}
}
