package config

import (
	"strings"
	"testing"
	"time"
)

// TestStressProbeMonitorValidation: the new sections are refused with a
// message naming the field and what would be right.
func TestStressProbeMonitorValidation(t *testing.T) {
	t.Parallel()
	th := "thresholds:\n  latency: [\"p(95) < 100ms\"]\n"
	cases := []struct {
		name, src, want string
	}{
		// a valid stress section
		{"stress ok", base + th + "stress: {from: 10, step: 10, to: 50, every: 10s}\n", ""},
		// without thresholds nothing can break
		{"stress needs thresholds", base + "stress: {from: 10, step: 10, to: 50, every: 10s}\n", "stress: needs thresholds"},
		// levels must climb
		{"stress to below from", base + th + "stress: {from: 10, step: 10, to: 5, every: 10s}\n", "stress.to: must be at least from"},
		{"stress no every", base + th + "stress: {from: 10, step: 10, to: 50}\n", "stress.every: is required"},
		{"stress unit", base + th + "stress: {unit: users, from: 10, step: 10, to: 50, every: 10s}\n", `unknown unit "users"`},
		// a ladder of levels instead of from, step and to
		{"stress ladder ok", base + th + "stress: {levels: [10, 25, 50, 100, 200, 500], every: 10s}\n", ""},
		// a ladder climbs
		{"stress ladder descends", base + th + "stress: {levels: [10, 50, 25], every: 10s}\n", "stress.levels.2: levels must ascend: 25 follows 50"},
		// a ladder replaces the range
		{"stress ladder and range", base + th + "stress: {levels: [10, 20], from: 10, step: 10, to: 50, every: 10s}\n", "stress.levels: lists the levels; remove from, step and to"},
		// a VU ladder is whole
		{"stress ladder fractional", base + th + "stress: {levels: [10, 12.5], every: 10s}\n", "stress.levels.1: VU levels are whole numbers"},
		// VU levels are whole
		{"stress fractional vus", base + th + "stress: {from: 10.5, step: 10, to: 50, every: 10s}\n", "whole numbers"},
		// a probe needs exactly one kind
		{"probe two kinds", base + "probes:\n  p: {http: \"http://x/\", tcp: \"x:1\"}\n", "needs exactly one of http"},
		{"probe sql without target", base + "probes:\n  p: {sql: \"SELECT 1\"}\n", "probes.p.target: is required"},
		// probe thresholds name a probe of the file
		{"probe threshold unknown", base + "probes:\n  health: {http: \"http://x/\"}\nthresholds:\n  \"probe_ok{probe:helth}\": [\"rate > 99%\"]\n", `unknown probe "helth"`},
		// resource thresholds need something monitored
		{"gauge unmonitored", base + "thresholds:\n  target_rss: [\"max < 500MB\"]\n", "target_rss needs a monitored process"},
		{"gauge monitored", base + "monitor: {pids: [1]}\nthresholds:\n  target_rss: [\"max < 500MB\"]\n  target_rss_slope: [\"value < 1MB\"]\n", ""},
		// a memory trend is a positive span; longer than the load is valid
		// (--set shortens a file): the trend is then not judged
		{"trend negative", base + "monitor: {pids: [1], trend: -1s}\n", "monitor.trend: must be a positive duration"},
		{"trend longer than the load", base + "monitor: {pids: [1], trend: 600s}\n", ""},
		// tags do not apply to resource metrics
		{"gauge tag", base + "monitor: {pids: [1]}\nthresholds:\n  \"target_cpu{step:x}\": [\"max < 70\"]\n", "takes no tags"},
		// an HTTP verify needs {id}
		{"verify http without id", strings.Replace(base, "- http: {url:", "- name: o\n        ack: id\n        http: {url:", 1) +
			"verify:\n  - acknowledged: o\n    http: {url: \"http://x/orders\"}\n", "must hold {id}"},
		{"verify http ok", strings.Replace(base, "- http: {url:", "- name: o\n        ack: id\n        http: {url:", 1) +
			"verify:\n  - acknowledged: o\n    http: {url: \"http://x/orders/{id}\", expect: 200}\n", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := strings.Join(problems(t, c.src, Options{}), "\n")
			if c.want == "" && got != "" || !strings.Contains(got, c.want) {
				t.Fatalf("problems:\n%s\nwant one containing %q", got, c.want)
			}
		})
	}
}

// TestStressLevels: the planned levels run from From to To by Step, or
// are the ladder; load drops back to the first after the breaking point.
func TestStressLevels(t *testing.T) {
	t.Parallel()
	ladder := &Stress{Ladder: []float64{10, 25, 50}}
	if got := ladder.Levels(); len(got) != 3 || got[1] != 25 || ladder.RecoverAtOrDefault() != 10 {
		t.Fatalf("ladder levels %v, recover at %g", got, ladder.RecoverAtOrDefault())
	}
	s := &Stress{From: 100, Step: 50, To: 300, Every: 30 * time.Second}
	if got := s.Levels(); len(got) != 5 || got[0] != 100 || got[4] != 300 {
		t.Fatalf("levels %v", got)
	}
	if s.SettleOrDefault() != 5*time.Second || s.RecoverAtOrDefault() != 100 || s.UnitOrDefault() != StressVUs {
		t.Fatalf("defaults: settle %s, recoverAt %g, unit %s", s.SettleOrDefault(), s.RecoverAtOrDefault(), s.UnitOrDefault())
	}
}
