package slo

import (
	"strings"
	"testing"
	"time"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/load"
)

// failing returns a profile that fails share (in fifths) of the operations
// intended in [from, to) with 503s, fast; and answers slowly (300 ms) in
// [to, slowUntil): a service still recovering.
func failing(fifths int, from, to, slowUntil time.Duration) func(time.Duration) (time.Duration, string, bool) {
	return func(t time.Duration) (time.Duration, string, bool) {
		switch {
		case t >= from && t < to && int((t/(5*ms))%5) < fifths:
			return 2 * ms, load.ClassHTTP503, true
		case t >= from && t < to:
			return 20 * ms, "", true
		case t >= to && t < slowUntil:
			return 300 * ms, "", true
		}
		return 0, "", false
	}
}

// compose returns the profile of the first part that covers t, steady
// (20 ms, no errors) elsewhere.
func compose(parts ...func(time.Duration) (time.Duration, string, bool)) profile {
	return func(t time.Duration) (time.Duration, string) {
		for _, p := range parts {
			if lat, class, ok := p(t); ok {
				return lat, class
			}
		}
		return 20 * ms, ""
	}
}

// episodeSpec is a 180 s run with warm-up 5 s, db-exhaustion's steady state and
// `errors: rate < 60%` as degradation, recovery 30 s/10 s/5 s (observation
// 45 s).
func episodeSpec(tb testing.TB, faults ...FaultWindow) Spec {
	return Spec{
		Thresholds:  steadyState(tb),
		Degradation: config.Thresholds{th(tb, "errors", "rate < 60%")},
		Timeline:    Timeline{Warmup: 5 * s, LoadEnd: 180 * s, Faults: faults},
	}
}

// TestJudgeEpisodes: faults far enough apart are judged as episodes of their
// own, each fault phase on its own data and each recovery on its own bound;
// each row is a failure that judging from the first apply to the last revert
// (one fault phase, one recovery after the last fault) would miss.
func TestJudgeEpisodes(t *testing.T) {
	t.Parallel()
	first, second := FaultWindow{"first", 20 * s, 30 * s}, FaultWindow{"second", 90 * s, 100 * s}
	type result struct{ phase, name, observed string } // a check and what it must have observed
	tests := []struct {
		name     string
		p        profile
		faults   []FaultWindow
		perFault map[string]FaultSpec
		episodes int
		failed   []result
		passed   []result
	}{
		// two faults 60 s apart; the first fails 4 in 5 operations: over
		// 20–100 s that would be 10% and pass; its own phase has 80%
		{"bad first fault", compose(failing(4, 20*s, 30*s, 0), failing(1, 90*s, 100*s, 0)),
			[]FaultWindow{first, second}, nil, 2,
			[]result{{"fault #1", "errors", "rate = 80% (1600/2000)"}},
			[]result{{"fault #2", "errors", "rate = 20% (400/2000)"}, {"recovery #1", "recovery", "recovered in 0s"},
				{"steady #1", "errors", "rate = 0%"}, {"recovery #2", "recovery", "recovered in 0s"}}},
		// the first episode recovers in 39.75 s (the last quarter second
		// of slow answers is under 5% of a 5 s window), past its 30 s
		// bound; the second at once (measured once, after the last fault,
		// the run would pass)
		{"slow first recovery", compose(failing(1, 20*s, 30*s, 70*s), failing(1, 90*s, 100*s, 0)),
			[]FaultWindow{first, second}, nil, 2,
			[]result{{"recovery #1", "recovery", "not recovered within 30s: latency p95 still 300ms at +30s; recovered late, at +39.75s"}},
			[]result{{"recovery #2", "recovery", "recovered in 0s"}, {"fault #1", "errors", "rate = 20%"}, {"steady #1", "latency", "p95 = 20ms"}}},
		// the second fault's own degradation tolerates 80% and its own
		// recovery 60 s; the first is held to the file's 60% and 30 s
		{"per-fault overrides", compose(failing(4, 20*s, 30*s, 0), failing(4, 90*s, 100*s, 140*s)),
			[]FaultWindow{first, second}, map[string]FaultSpec{"second": {
				Degradation: config.Thresholds{th(t, "errors", "rate < 90%")},
				Recovery:    config.Recovery{Within: 60 * s, Hold: 10 * s, Window: 5 * s},
			}}, 2,
			[]result{{"fault #1", "errors", "rate = 80%"}},
			[]result{{"fault #2", "errors", "rate = 80%"}, {"recovery #2", "recovery", "recovered in 39.75s"}}},
		// faults 20 s apart cascade into one episode, judged on the union of
		// their windows: 80% in each; over 20–60 s with the healthy gap
		// between them it would be 40% and pass
		{"cascade judged on the union", compose(failing(4, 20*s, 30*s, 0), failing(4, 50*s, 60*s, 0)),
			[]FaultWindow{first, {"next", 50 * s, 60 * s}}, nil, 1,
			[]result{{"fault #1", "errors", "rate = 80% (3200/4000)"}},
			[]result{{"recovery #1", "recovery", "recovered in 0s"}}},
		// overlapping faults: one episode
		{"overlap", compose(failing(1, 20*s, 60*s, 0)),
			[]FaultWindow{{"a", 20 * s, 50 * s}, {"b", 40 * s, 60 * s}}, nil, 1, nil,
			[]result{{"fault #1", "errors", "rate = 20% (1600/8000)"}, {"recovery #1", "recovery", "recovered in 0s"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			spec := episodeSpec(t, tt.faults...)
			spec.PerFault = tt.perFault
			v := Judge(recorder(span{0, 180 * s, 200, tt.p}), spec)
			if len(v.Episodes) != tt.episodes {
				t.Fatalf("%d episodes, want %d:\n%s", len(v.Episodes), tt.episodes, dump(v))
			}
			if got := len(v.Failed()); got != len(tt.failed) {
				t.Errorf("%d checks failed, want %d:\n%s", got, len(tt.failed), dump(v))
			}
			for _, w := range tt.failed {
				if c, ok := findLabelled(v, w.phase, w.name); !ok || !c.Failed() || !strings.Contains(c.Observed, w.observed) {
					t.Errorf("want %s %s failed with %q:\n%s", w.phase, w.name, w.observed, dump(v))
				}
			}
			for _, w := range tt.passed {
				if c, ok := findLabelled(v, w.phase, w.name); !ok || !c.Passed || !strings.Contains(c.Observed, w.observed) {
					t.Errorf("want %s %s passed with %q:\n%s", w.phase, w.name, w.observed, dump(v))
				}
			}
		})
	}
}

// TestJudgeEpisodeMerges: the episodes of a run say why their faults were
// merged, from the windows as they happened.
func TestJudgeEpisodeMerges(t *testing.T) {
	t.Parallel()
	v := Judge(recorder(span{0, 180 * s, 200, steady}), episodeSpec(t,
		FaultWindow{"a", 20 * s, 30 * s}, FaultWindow{"b", 42250 * ms, 50 * s}, FaultWindow{"c", 120 * s, 125 * s}))
	if len(v.Episodes) != 2 || len(v.Episodes[0].Merged) != 1 || len(v.Episodes[1].Merged) != 0 {
		t.Fatalf("episodes %+v", v.Episodes)
	}
	want := `faults "a" and "b" form one episode: "b" starts 12.25s after "a" ends, closer than the recovery observation within+hold+window = 45s`
	if got := v.Episodes[0].Merged[0]; !strings.HasPrefix(got, want) {
		t.Errorf("merged: %q\nwant %q…", got, want)
	}
	if ep := v.Episodes[1]; ep.Number != 2 || ep.Start != 120*s || ep.End != 125*s || v.Recovery.FaultEnd != 125*s {
		t.Errorf("episode 2 %+v; last recovery %+v", ep, v.Recovery)
	}
}

// findLabelled finds a check by its phase label ("fault #1") and name.
func findLabelled(v Verdict, label, name string) (Check, bool) {
	for _, c := range v.Checks {
		if phaseLabel(c) == label && c.Name == name {
			return c, true
		}
	}
	return Check{}, false
}

func phaseLabel(c Check) string {
	if c.Episode == 0 {
		return c.Phase
	}
	return c.Phase + " #" + itoa(int64(c.Episode))
}

// TestJudgeSampledPerEpisode: resource thresholds of the degradation are
// judged per episode over its fault phase only (a cascade's stretches
// together, its gap left out); an episode of one-shot faults has no fault
// phase, so they are skipped rather than failed for want of samples.
func TestJudgeSampledPerEpisode(t *testing.T) {
	t.Parallel()
	// CPU 90% during 20–30 s and 50–60 s, 95% in the gap between them, 10% elsewhere
	var samples []Sample
	for at := time.Duration(0); at < 180*s; at += s {
		cpu := 10.0
		switch {
		case at >= 20*s && at < 30*s, at >= 50*s && at < 60*s:
			cpu = 90
		case at >= 30*s && at < 50*s:
			cpu = 95
		}
		samples = append(samples, Sample{At: at, Values: map[string]float64{"target_cpu": cpu}})
	}
	spec := episodeSpec(t, FaultWindow{"a", 20 * s, 30 * s}, FaultWindow{"b", 50 * s, 60 * s}, FaultWindow{"shot", 130 * s, 130 * s})
	spec.Degradation = config.Thresholds{th(t, "target_cpu", "max < 92%")}
	v := Judge(recorder(span{0, 180 * s, 200, steady}), spec)
	got := JudgeSampled(SampledSource{Samples: samples}, spec, v)
	if len(got) != 2 {
		t.Fatalf("%d sampled checks, want one per episode: %+v", len(got), got)
	}
	if c := got[0]; c.Episode != 1 || !c.Passed || c.Observed != "max = 90%" {
		t.Errorf("episode 1 (a cascade, its gap at 95%% left out): %+v", c)
	}
	if c := got[1]; c.Episode != 2 || !c.Skipped || !strings.Contains(c.Observed, "one-shot faults only") {
		t.Errorf("episode 2 (one-shot): %+v", c)
	}
}
