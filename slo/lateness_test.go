package slo

import (
	"math"
	"testing"
	"time"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/metrics"
)

// lateProfile says what an operation intended at t did: how late the
// generator handed it on, how long the target then took, and its class.
type lateProfile func(t time.Duration) (late, took time.Duration, class string)

// recordLate fills a recorder with rate operations per second over
// [0, until), each as p says.
func recordLate(until time.Duration, rate int, p lateProfile) *metrics.Recorder {
	r := metrics.NewRecorder(metrics.Config{})
	for t := time.Duration(0); t < until; t += s / time.Duration(rate) {
		late, took, class := p(t)
		r.Record(&load.Result{Scenario: "shoppers", Step: "browse", Protocol: load.HTTP, Target: "api",
			Intended: t, Dispatched: t + late, Start: t + late, End: t + late + took, Class: class})
	}
	return r
}

// stalled10 is a fast target (1 ms) behind a generator that hands every
// tenth operation on 50 ms late: p95 is 51 ms with the lateness, 1 ms
// without.
func stalled10(t time.Duration) (time.Duration, time.Duration, string) {
	if (t/(5*ms))%10 == 0 {
		return 50 * ms, ms, ""
	}
	return 0, ms, ""
}

// stalledWith5xx is stalled10 with every fifth operation a 500.
func stalledWith5xx(t time.Duration) (time.Duration, time.Duration, string) {
	late, took, _ := stalled10(t)
	if (t/(5*ms))%5 == 1 {
		return late, took, load.ClassHTTP5xx
	}
	return late, took, ""
}

// slowBehindStall is a slow target (200 ms) behind the stalled generator.
func slowBehindStall(t time.Duration) (time.Duration, time.Duration, string) {
	late, _, _ := stalled10(t)
	return late, 200 * ms, ""
}

// TestJudgeWithoutLateness: a check on latency stands when it gives the
// same result without the generator's own lateness, and flips (neither
// passes nor fails) when it does not; counts never depend on it.
func TestJudgeWithoutLateness(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		p        lateProfile
		key      string
		expr     string
		passed   bool    // Check.Passed, as measured
		flipped  bool    // Check.Flipped
		failed   bool    // Check.Failed
		net      bool    // judged a second time
		lateness float64 // Check.Lateness in ms, when flipped
	}{
		// a 50 ms stall flips a 10 ms check: 51 ms with it, 1 ms without
		{"stall flips 10ms", stalled10, "latency", "p(95) < 10ms", false, true, false, true, 50},
		// the same stall cannot flip a 100 ms check: it holds both ways
		{"stall cannot flip 100ms", stalled10, "latency", "p(95) < 100ms", true, false, false, true, 0},
		// a slow target fails a 10 ms check with and without the stall
		{"slow target fails both ways", slowBehindStall, "latency", "p(95) < 10ms", false, false, true, true, 0},
		// 500s are counted the same whatever the generator did
		{"5xx stands", stalledWith5xx, "errors{class:http_5xx}", "count == 0", false, false, true, false, 0},
		// an error rate is a count too
		{"error rate stands", stalledWith5xx, "errors", "rate < 1%", false, false, true, false, 0},
		// dispatch lag includes the lateness: judged twice, and flipped
		{"dispatch lag flips", stalled10, "dispatch_lag", "p(95) < 10ms", false, true, false, true, 50},
		// service time does not include it: judged once
		{"service time once", stalled10, "service_time", "p(95) < 10ms", true, false, false, false, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := recordLate(10*s, 200, tt.p)
			v := Judge(rec, Spec{
				Thresholds: config.Thresholds{th(t, tt.key, tt.expr)},
				Timeline:   Timeline{Warmup: s, LoadEnd: 10 * s},
				Net:        rec.WithoutLateness(),
			})
			c := v.Checks[0]
			if c.Passed != tt.passed || c.Flipped() != tt.flipped || c.Failed() != tt.failed || (c.Net != nil) != tt.net {
				t.Fatalf("%s %s: passed %v flipped %v failed %v judged twice %v (%s / %+v); want %v %v %v %v",
					tt.key, tt.expr, c.Passed, c.Flipped(), c.Failed(), c.Net != nil, c.Observed, c.Net,
					tt.passed, tt.flipped, tt.failed, tt.net)
			}
			if late, ok := c.Lateness(); tt.flipped && (!ok || math.Abs(late-tt.lateness) > 0.1) {
				t.Errorf("lateness %v (%v), want %vms", late, ok, tt.lateness)
			}
			if v.Passed != (tt.passed && !tt.flipped) || len(v.Flipped()) != btoi(tt.flipped) || len(v.Failed()) != btoi(tt.failed) {
				t.Errorf("verdict passed %v, %d flipped, %d failed", v.Passed, len(v.Flipped()), len(v.Failed()))
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestJudgeOnceWithoutNet: without Spec.Net every check is judged once, as
// before.
func TestJudgeOnceWithoutNet(t *testing.T) {
	t.Parallel()
	v := Judge(recordLate(10*s, 200, stalled10), Spec{
		Thresholds: config.Thresholds{th(t, "latency", "p(95) < 10ms")},
		Timeline:   Timeline{Warmup: s, LoadEnd: 10 * s},
	})
	if c := v.Checks[0]; c.Net != nil || c.Flipped() || !c.Failed() {
		t.Fatalf("check %+v, want judged once and failed", c)
	}
}

// TestRecoveryWithoutLateness: a target back to 1 ms the moment a fault
// ends, behind a generator that stays 50 ms late on every operation for
// 20 s more, has not recovered as measured and has without the lateness:
// the recovery check flips, and the steady phase is judged on the phases as
// measured.
func TestRecoveryWithoutLateness(t *testing.T) {
	t.Parallel()
	p := func(t time.Duration) (time.Duration, time.Duration, string) {
		switch {
		case t >= 20*s && t < 30*s:
			return 0, 300 * ms, "" // the fault: slow
		case t >= 30*s && t < 50*s:
			return 50 * ms, ms, "" // the generator stalls on every operation
		}
		return 0, ms, ""
	}
	rec := recordLate(90*s, 100, p)
	v := Judge(rec, Spec{
		Thresholds: config.Thresholds{th(t, "latency", "p(95) < 10ms")},
		Recovery:   config.Recovery{Within: 10 * s, Hold: 5 * s, Window: 2 * s},
		Timeline:   Timeline{Warmup: s, LoadEnd: 90 * s, Faults: []FaultWindow{{Name: "slow", Applied: 20 * s, Reverted: 30 * s}}},
		Net:        rec.WithoutLateness(),
	})
	if v.Recovery.Passed() || v.NetRecovery == nil || !v.NetRecovery.Passed() {
		t.Fatalf("recovery %s / without lateness %+v: want not recovered as measured, recovered without", v.Recovery.Reason, v.NetRecovery)
	}
	c, ok := findCheck(v, PhaseRecovery, "recovery")
	if !ok || !c.Flipped() || c.Failed() || c.Net == nil || c.Net.Shown != v.NetRecovery.Reason {
		t.Fatalf("recovery check %+v, want flipped", c)
	}
	if v.Passed || len(v.Failed()) != 0 {
		t.Errorf("verdict passed %v with failed %v: want neither passed nor failed\n%s", v.Passed, v.Failed(), dump(v))
	}
}

// TestAbortWithoutLateness: an abort condition on latency fires only when it
// holds without the generator's own lateness too: a stalled generator in
// front of a fast target never stops a run, a slow target does; counts are
// judged once.
func TestAbortWithoutLateness(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		p     lateProfile
		key   string
		expr  string
		fired bool
	}{
		// p95 41 ms as measured, 1 ms without: the generator's doing
		{"stall alone", stalled10, "latency", "p(95) > 10ms for 2s", false},
		// 200 ms without the lateness too: the target's doing
		{"slow target", slowBehindStall, "latency", "p(95) > 10ms for 2s", true},
		// 500s count whatever the generator did
		{"errors", stalledWith5xx, "errors", "rate > 10% for 2s", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := recordLate(10*s, 200, tt.p)
			w := NewAbortWatch(config.Thresholds{th(t, tt.key, tt.expr)}, AbortConfig{Net: rec.WithoutLateness()})
			if fired, reason := w.Check(rec, 5*s); fired != tt.fired {
				t.Fatalf("fired %v (%s), want %v", fired, reason, tt.fired)
			}
			// without the view, the condition is judged as measured
			if fired, _ := NewAbortWatch(config.Thresholds{th(t, tt.key, tt.expr)}, AbortConfig{}).Check(rec, 5*s); !fired {
				t.Errorf("without Net: did not fire")
			}
		})
	}
}

// TestRecoveryWithoutLatenessPerEpisode: each episode's recovery is
// measured both ways on its own: the generator 50 ms late for 20 s after
// the first fault flips the first episode's recovery check only; the
// second episode, on time, recovers at once both ways.
func TestRecoveryWithoutLatenessPerEpisode(t *testing.T) {
	t.Parallel()
	p := func(t time.Duration) (time.Duration, time.Duration, string) {
		switch {
		case t >= 20*s && t < 30*s, t >= 90*s && t < 100*s:
			return 0, 300 * ms, "" // the faults: slow
		case t >= 30*s && t < 50*s:
			return 50 * ms, ms, "" // the generator stalls on every operation
		}
		return 0, ms, ""
	}
	rec := recordLate(180*s, 100, p)
	v := Judge(rec, Spec{
		Thresholds: config.Thresholds{th(t, "latency", "p(95) < 10ms")},
		Recovery:   config.Recovery{Within: 10 * s, Hold: 5 * s, Window: 2 * s},
		Timeline: Timeline{Warmup: s, LoadEnd: 180 * s, Faults: []FaultWindow{
			{Name: "first", Applied: 20 * s, Reverted: 30 * s}, {Name: "second", Applied: 90 * s, Reverted: 100 * s}}},
		Net: rec.WithoutLateness(),
	})
	if len(v.Episodes) != 2 {
		t.Fatalf("%d episodes, want 2:\n%s", len(v.Episodes), dump(v))
	}
	first, second := v.Episodes[0], v.Episodes[1]
	if first.Recovery.Passed() || first.NetRecovery == nil || !first.NetRecovery.Passed() {
		t.Errorf("episode 1 recovery %s / without lateness %+v: want not recovered as measured, recovered without", first.Recovery.Reason, first.NetRecovery)
	}
	if !second.Recovery.Passed() || second.NetRecovery == nil || !second.NetRecovery.Passed() || v.NetRecovery != second.NetRecovery {
		t.Errorf("episode 2 recovery %s / without lateness %+v: want recovered both ways, and the verdict's", second.Recovery.Reason, second.NetRecovery)
	}
	var flipped []int
	for _, c := range v.Flipped() {
		flipped = append(flipped, c.Episode)
		if c.Name != "recovery" {
			t.Errorf("flipped %s %s #%d, want only a recovery", c.Phase, c.Name, c.Episode)
		}
	}
	if len(flipped) != 1 || flipped[0] != 1 || v.Passed || len(v.Failed()) != 0 {
		t.Errorf("flipped in episodes %v, %d failed, passed %v: want episode 1's recovery flipped, nothing failed\n%s", flipped, len(v.Failed()), v.Passed, dump(v))
	}
}
