package report

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/chaosload/chaosload/runner"
)

// The outcomes the renderers are tested on: built in code, deterministic,
// shaped like real runs of experiments/db-exhaustion.yaml.

func f64(v float64) *float64 { return &v }

// passedOutcome: 60 s at 200/s, the pool exhausted from 20 s to 35 s (503s
// shed, latency up), recovered 0.5 s after the revert: one episode.
func passedOutcome() *runner.Outcome {
	faultPhase := runner.Phase{Name: "fault", Episode: 1, StartS: 20, EndS: 35, Ops: 3000, Errors: 1200, OpsPerS: 200, OKPerS: 120, P50MS: 3.1, P95MS: 48, P99MS: 61}
	recovered := &runner.Recovery{
		MeasuredS: f64(0.5), WithinS: 30, HoldS: 10, WindowS: 5, Passed: true, FaultEndS: 35, FirstGoodS: f64(0.5),
	}
	o := &runner.Outcome{
		SchemaVersion: runner.SchemaVersion, Experiment: "db-exhaustion", File: "experiments/db-exhaustion.yaml",
		Description: "PostgreSQL runs out of connections while users shop.\nThe API must shed load with 503s.",
		Verdict:     runner.Passed, Passed: true, Seed: 42,
		StartedAt: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC), DurationS: 60,
		Stack: &runner.StackInfo{Name: "demo", Mode: "graceful", API: "127.0.0.1:40001", Postgres: "127.0.0.1:40002", Redis: "127.0.0.1:40003"},
		Targets: []runner.TargetResult{
			{Name: "api", Protocol: "http", Listen: "127.0.0.1:41001", Upstream: "127.0.0.1:40001", ProxyCounts: runner.ProxyCounts{Accepted: 120, BytesUp: 90000, BytesDn: 400000}, FastPath: "sockmap"},
			{Name: "postgres", Protocol: "postgres", Listen: "127.0.0.1:41002", Upstream: "127.0.0.1:40002", ProxyCounts: runner.ProxyCounts{Accepted: 30, Reset: 8}, FastPath: "sockmap"},
		},
		Phases: []runner.Phase{
			{Name: "warm-up", StartS: 0, EndS: 10, Ops: 2000, OpsPerS: 200, OKPerS: 200, P50MS: 0.9, P95MS: 1.6, P99MS: 2.4},
			{Name: "baseline", StartS: 10, EndS: 20, Ops: 2000, OpsPerS: 200, OKPerS: 200, P50MS: 0.9, P95MS: 1.5, P99MS: 2.2},
			faultPhase,
			{Name: "recovery", Episode: 1, StartS: 35, EndS: 35.5, Ops: 100, Errors: 4, OpsPerS: 200, OKPerS: 192, P50MS: 1.2, P95MS: 9.5, P99MS: 12},
			{Name: "steady", Episode: 1, StartS: 35.5, EndS: 60, Ops: 4900, OpsPerS: 200, OKPerS: 200, P50MS: 0.9, P95MS: 1.5, P99MS: 2.3},
		},
		Checks: []runner.Check{
			{Name: "latency: p(95) < 100ms", Phase: "baseline", Expression: "p(95) < 100ms", Observed: "p95 = 1.5ms", Value: f64(1.5), Passed: true},
			{Name: "errors: rate < 1%", Phase: "baseline", Expression: "rate < 1%", Observed: "rate = 0% (0/2000)", Value: f64(0), Passed: true},
			{Name: "errors: rate < 60%", Phase: "fault", Episode: 1, Expression: "rate < 60%", Observed: "rate = 40% (1200/3000)", Value: f64(0.4), Passed: true},
			{Name: "errors{class:http_5xx}: count == 0", Phase: "fault", Episode: 1, Expression: "count == 0", Observed: "count = 0", Value: f64(0), Passed: true},
			{Name: "latency: p(95) < 100ms", Phase: "steady", Episode: 1, Expression: "p(95) < 100ms", Observed: "p95 = 1.5ms", Value: f64(1.5), Passed: true},
			{Name: "errors: rate < 1%", Phase: "steady", Episode: 1, Expression: "rate < 1%", Observed: "rate = 0% (0/4900)", Value: f64(0), Passed: true},
		},
		Recovery: recovered,
		Faults: []runner.FaultResult{
			{Name: "pg-connections-exhausted", Kind: "pool-exhaustion", Target: "postgres", AppliedS: f64(20), RevertedS: f64(35), ApplyMS: 41, RevertMS: 3,
				Effect: &runner.FaultEffect{Changed: true, ServerRefused: 412, Admissions: 415, ServerAdmitted: 3, SlotsHeld: 27, HoldAttempts: 28, HoldRefused: 1}},
			{Name: "drop-app-connections", Kind: "reset", Target: "postgres", AppliedS: f64(20), RevertedS: f64(20), ApplyMS: 1,
				Effect: &runner.FaultEffect{Changed: true, ConnsSelected: 8, ConnsReset: 8}},
		},
		Verify:    []runner.VerifyResult{{Step: "order", Target: "postgres", Acknowledged: 5400, Verified: 5400, Passed: true}},
		Totals:    runner.Totals{Ops: 12000, Errors: 1204, ByClass: map[string]int64{"http_503": 1150, "timeout": 54}},
		IntervalS: 0.25,
	}
	o.Intervals = syntheticIntervals(60, 0.25, 20, 35)
	o.Episodes = []runner.Episode{{
		Number: 1, Faults: []string{"pg-connections-exhausted", "drop-app-connections"},
		StartS: 20, EndS: 35, InEffectS: 15, FaultPhase: faultPhase, Checks: o.Checks[2:], Recovery: recovered,
		Merged: []string{`faults "pg-connections-exhausted" and "drop-app-connections" form one episode: ` +
			`"drop-app-connections" starts at 20s, while "pg-connections-exhausted" is in effect (until 35s)`},
	}}
	return o
}

// syntheticIntervals shapes a run: 50 ops per interval; between faultFrom
// and faultTo 40% fail (503s, some timeouts) and latency rises.
func syntheticIntervals(span, dt, faultFrom, faultTo float64) []runner.Interval {
	var ivs []runner.Interval
	for i := 0; float64(i)*dt < span; i++ {
		t := float64(i) * dt
		wave := 1 + 0.2*math.Sin(t/3)
		iv := runner.Interval{
			TS: t, Ops: 50, P50MS: 0.9 * wave, P95MS: 1.5 * wave, P99MS: 2.3 * wave,
			VUs: 50, BusyVUs: int64(3 + 2*wave), Arrivals: 25,
		}
		if t >= faultFrom && t < faultTo {
			iv.Errors = 20
			iv.ByClass = map[string]int64{"http_503": 18, "timeout": 2}
			iv.P50MS, iv.P95MS, iv.P99MS = 3*wave, 45*wave, 60*wave
			iv.VUs, iv.BusyVUs = 80, int64(40*wave)
		}
		ivs = append(ivs, iv)
	}
	return ivs
}

// failedOutcome: the naive service answers 500s during the fault, does not
// recover within 10 s, loses acknowledged orders, and is slower than the
// baseline it is compared with.
func failedOutcome() *runner.Outcome {
	o := passedOutcome()
	o.Verdict, o.Passed = runner.Failed, false
	o.Stack.Mode = "naive"
	o.Checks[3] = runner.Check{Name: "errors{class:http_5xx}: count == 0", Phase: "fault", Episode: 1, Expression: "count == 0", Observed: "count = 913", Value: f64(913)}
	o.Checks = o.Checks[:4]
	o.Checks = append(o.Checks, runner.Check{Name: "latency: p(95) < 100ms", Phase: "steady", Episode: 1, Expression: "p(95) < 100ms",
		Observed: "not judged: no steady phase (the service did not recover before the load ended)", Skipped: true})
	o.Checks = slices.Insert(o.Checks, 4, runner.Check{Name: "pg-connections-exhausted: expectEffect", Phase: "fault", Episode: 1,
		Expression: "changed traffic", Observed: "no traffic changed: no connection through the proxy reached the full server (the hold held 27 slots)"})
	o.Phases = o.Phases[:4]
	o.Phases[3].EndS, o.Phases[3].Ops, o.Phases[3].P95MS = 60, 5000, 340
	o.Recovery = &runner.Recovery{WithinS: 10, HoldS: 5, WindowS: 2, FaultEndS: 35, Flaps: 2,
		Detail: "not recovered within 10s: latency p95 still 340ms at +10s"}
	o.Episodes[0].Checks, o.Episodes[0].Recovery = o.Checks[2:], o.Recovery
	o.Verify = []runner.VerifyResult{
		{Step: "order", Target: "postgres", Acknowledged: 5400, Verified: 5397, Lost: 3, LostIDs: []string{"101", "102", "103"}},
		// the service answered 503 to every attempt of two GETs: neither found nor lost
		{Step: "order", Target: "http://127.0.0.1:40001/api/orders/{id}", Acknowledged: 5400, Verified: 5398,
			Unverified: 2, UnverifiedIDs: []string{"17", "18"}, UnverifiedWhy: "answered 503 Service Unavailable"},
	}
	o.Totals.ByClass = map[string]int64{"http_5xx": 913, "http_503": 230, "timeout": 61}
	o.Faults[0].Effect = &runner.FaultEffect{SlotsHeld: 27, HoldAttempts: 27}
	o.Faults[0].LateS = 1.5
	o.Warnings = []string{`scenario "walkers" uses constant-vus (a closed model)`,
		`fault "pg-connections-exhausted" (pool-exhaustion on postgres) changed no traffic while in effect: no connection through the proxy reached the full server (the hold held 27 slots)`}
	base := passedOutcome()
	base.Phases[2].P95MS = 30 // the baseline was faster during the fault (48 ms now)
	o.Compare(Compare(o, base, "baseline.json", 0.10))
	return o
}

// episodesOutcome: 140 s at 200/s with two fault episodes. Episode 1 is a
// cascade: Redis slow from 20 s to 30 s, then (8 s later, closer than the
// 45 s observation) every PostgreSQL connection reset at 38 s; its fault
// phase (20–30 s) sheds 78% of requests, beyond its 60% bound, though it
// recovers 2 s after the reset. Episode 2, the API down from 80 s to 90 s,
// sheds 40% and recovers in 0.5 s, within its own bound of 10 s.
func episodesOutcome() *runner.Outcome {
	o := passedOutcome()
	o.Experiment, o.File, o.Description = "cascade", "experiments/cascade.yaml", "Redis slows down, PostgreSQL connections reset, later the API goes down."
	o.Verdict, o.Passed, o.DurationS = runner.Failed, false, 140
	fault1 := runner.Phase{Name: "fault", Episode: 1, StartS: 20, EndS: 30, Ops: 2000, Errors: 1560, OpsPerS: 200, OKPerS: 44, P50MS: 2.9, P95MS: 51, P99MS: 70}
	fault2 := runner.Phase{Name: "fault", Episode: 2, StartS: 80, EndS: 90, Ops: 2000, Errors: 800, OpsPerS: 200, OKPerS: 120, P50MS: 3.1, P95MS: 48, P99MS: 61}
	o.Phases = []runner.Phase{
		{Name: "warm-up", StartS: 0, EndS: 5, Ops: 1000, OpsPerS: 200, OKPerS: 200, P50MS: 0.9, P95MS: 1.6, P99MS: 2.4},
		{Name: "baseline", StartS: 5, EndS: 20, Ops: 3000, OpsPerS: 200, OKPerS: 200, P50MS: 0.9, P95MS: 1.5, P99MS: 2.2},
		fault1,
		{Name: "gap", Episode: 1, StartS: 30, EndS: 38, Ops: 1600, Errors: 40, OpsPerS: 200, OKPerS: 195, P50MS: 1.1, P95MS: 12, P99MS: 20},
		{Name: "recovery", Episode: 1, StartS: 38, EndS: 40, Ops: 400, Errors: 30, OpsPerS: 200, OKPerS: 185, P50MS: 1.4, P95MS: 30, P99MS: 45},
		{Name: "steady", Episode: 1, StartS: 40, EndS: 80, Ops: 8000, OpsPerS: 200, OKPerS: 200, P50MS: 0.9, P95MS: 1.5, P99MS: 2.3},
		fault2,
		{Name: "recovery", Episode: 2, StartS: 90, EndS: 90.5, Ops: 100, Errors: 2, OpsPerS: 200, OKPerS: 196, P50MS: 1.2, P95MS: 9.5, P99MS: 12},
		{Name: "steady", Episode: 2, StartS: 90.5, EndS: 140, Ops: 9900, OpsPerS: 200, OKPerS: 200, P50MS: 0.9, P95MS: 1.5, P99MS: 2.3},
	}
	steady := func(ep int, ops int) []runner.Check {
		return []runner.Check{
			{Name: "latency: p(95) < 100ms", Phase: "steady", Episode: ep, Expression: "p(95) < 100ms", Observed: "p95 = 1.5ms", Value: f64(1.5), Passed: true},
			{Name: "errors: rate < 1%", Phase: "steady", Episode: ep, Expression: "rate < 1%", Observed: fmt.Sprintf("rate = 0%% (0/%d)", ops), Value: f64(0), Passed: true},
		}
	}
	ep1 := append([]runner.Check{{Name: "errors: rate < 60%", Phase: "fault", Episode: 1, Expression: "rate < 60%", Observed: "rate = 78% (1560/2000)", Value: f64(0.78)}},
		steady(1, 8000)...)
	ep2 := append([]runner.Check{{Name: "errors: rate < 60%", Phase: "fault", Episode: 2, Expression: "rate < 60%", Observed: "rate = 40% (800/2000)", Value: f64(0.4), Passed: true}},
		steady(2, 9900)...)
	o.Checks = append(append([]runner.Check{
		{Name: "latency: p(95) < 100ms", Phase: "baseline", Expression: "p(95) < 100ms", Observed: "p95 = 1.5ms", Value: f64(1.5), Passed: true},
		{Name: "errors: rate < 1%", Phase: "baseline", Expression: "rate < 1%", Observed: "rate = 0% (0/3000)", Value: f64(0), Passed: true},
	}, ep1...), ep2...)
	rec1 := &runner.Recovery{MeasuredS: f64(2), WithinS: 30, HoldS: 10, WindowS: 5, Passed: true, FaultEndS: 38, FirstGoodS: f64(1.5), Flaps: 1}
	rec2 := &runner.Recovery{MeasuredS: f64(0.5), WithinS: 10, HoldS: 10, WindowS: 5, Passed: true, FaultEndS: 90, FirstGoodS: f64(0.5)}
	o.Recovery = rec2
	o.Faults = []runner.FaultResult{
		{Name: "redis-slow", Kind: "latency", Target: "redis", AppliedS: f64(20), RevertedS: f64(30), ApplyMS: 1, RevertMS: 1},
		{Name: "pg-reset", Kind: "reset", Target: "postgres", AppliedS: f64(38), RevertedS: f64(38), ApplyMS: 1},
		{Name: "api-down", Kind: "down", Target: "api", AppliedS: f64(80), RevertedS: f64(90), ApplyMS: 1, RevertMS: 2},
	}
	o.Episodes = []runner.Episode{
		{Number: 1, Faults: []string{"redis-slow", "pg-reset"}, StartS: 20, EndS: 38, InEffectS: 10, FaultPhase: fault1, Checks: ep1, Recovery: rec1,
			Merged: []string{`faults "redis-slow" and "pg-reset" form one episode: "pg-reset" starts 8s after "redis-slow" ends, closer than the ` +
				`recovery observation within+hold+window = 45s (30s + 10s + 5s), so the service has no time to show it recovered in between`}},
		{Number: 2, Faults: []string{"api-down"}, StartS: 80, EndS: 90, InEffectS: 10, FaultPhase: fault2, Checks: ep2, Recovery: rec2},
	}
	o.Intervals = syntheticIntervals(140, 0.25, 20, 30)
	for i := range o.Intervals { // episode 2 has the shape of episode 1, 60 s later
		if t := o.Intervals[i].TS; t >= 80 && t < 90 {
			o.Intervals[i] = o.Intervals[i-240]
			o.Intervals[i].TS = t
		}
	}
	o.Verify, o.Comparison = nil, nil
	o.Totals = runner.Totals{Ops: 28000, Errors: 2432, ByClass: map[string]int64{"http_503": 2300, "timeout": 132}}
	return o
}

// erroredOutcome: the upstream was unreachable at preflight; nothing ran.
func erroredOutcome() *runner.Outcome {
	return &runner.Outcome{
		SchemaVersion: runner.SchemaVersion, Experiment: "unreachable", File: "experiments/unreachable.yaml",
		Verdict: runner.Errored, Partial: true, Seed: 7,
		Errors:    []string{`preflight: target "api": upstream 127.0.0.1:1 unreachable: connection refused`},
		Totals:    runner.Totals{ByClass: map[string]int64{}},
		IntervalS: 0.25,
	}
}

// inconclusiveOutcome: the passed run, but the baseline's latency bound is
// 1 ms and the generator, late on its own, decides it: 1.5 ms as measured,
// 0.9 ms without its lateness.
func inconclusiveOutcome() *runner.Outcome {
	o := passedOutcome()
	o.Verdict, o.Passed = runner.Inconclusive, false
	o.Checks[0] = runner.Check{
		Name: "latency: p(95) < 1ms", Phase: "baseline", Expression: "p(95) < 1ms", Observed: "p95 = 1.5ms", Value: f64(1.5),
		Inconclusive:    true,
		WithoutLateness: &runner.Judgement{Observed: "p95 = 0.9ms", Value: f64(0.9), Passed: true, LatenessMS: f64(0.6)},
	}
	o.Inconclusive = []string{"baseline latency: p(95) < 1ms fails with the generator's own lateness (p95 = 1.5ms) and holds without it (p95 = 0.9ms): its lateness added 0.6ms"}
	o.Generator = &runner.GeneratorHealth{
		Ops: 11000, LagP50MS: 0.08, LagP99MS: 7.4, LagMaxMS: 21.5, CPUPeak: 0.83, CPUSaturatedS: 0, Cores: 2,
		Busy: "generator lag p99 7.4ms > 5ms: the generator started operations late on its own",
		Offered: []runner.OfferedLoad{
			{Phase: "baseline", Scenario: "shoppers", Intended: 2000, Made: 2000},
			{Phase: "fault", Episode: 1, Scenario: "shoppers", Intended: 3000, Made: 3000, Dropped: 12},
			{Phase: "recovery", Episode: 1, Scenario: "shoppers", Intended: 100, Made: 100},
			{Phase: "steady", Episode: 1, Scenario: "shoppers", Intended: 4900, Made: 4900},
		},
	}
	return o
}

// lateEpisodesOutcome: the two episodes of episodesOutcome, each judged
// with a 50 ms latency degradation too, on a busy generator. Episode 1's
// fault phase sheds 78% (within its 80%) and its p95 is 51 ms as measured,
// 38 ms without the generator's own lateness: that check flips. Episode 2
// holds its latency both ways but recovers at +12 s as measured, past its
// 10 s bound, and at once (0.5 s) without the lateness: its recovery
// flips. Nothing fails both ways: the run is inconclusive.
func lateEpisodesOutcome() *runner.Outcome {
	o := episodesOutcome()
	o.Experiment, o.File = "late-cascade", "experiments/late-cascade.yaml"
	o.Verdict, o.Passed = runner.Inconclusive, false
	lat1 := runner.Check{Name: "latency: p(95) < 50ms", Phase: "fault", Episode: 1, Expression: "p(95) < 50ms", Observed: "p95 = 51ms", Value: f64(51),
		Inconclusive: true, WithoutLateness: &runner.Judgement{Observed: "p95 = 38ms", Value: f64(38), Passed: true, LatenessMS: f64(13)}}
	lat2 := runner.Check{Name: "latency: p(95) < 50ms", Phase: "fault", Episode: 2, Expression: "p(95) < 50ms", Observed: "p95 = 48ms", Value: f64(48), Passed: true,
		WithoutLateness: &runner.Judgement{Observed: "p95 = 47ms", Value: f64(47), Passed: true, LatenessMS: f64(1)}}
	var checks []runner.Check
	for _, c := range o.Checks {
		if c.Phase == "fault" {
			c.Name, c.Expression, c.Passed = "errors: rate < 80%", "rate < 80%", true
			checks = append(checks, map[int]runner.Check{1: lat1, 2: lat2}[c.Episode])
		}
		checks = append(checks, c)
	}
	for i, c := range checks { // the steady state's latency holds both ways
		if strings.HasPrefix(c.Name, "latency:") && c.WithoutLateness == nil {
			checks[i].WithoutLateness = &runner.Judgement{Observed: c.Observed, Value: c.Value, Passed: true, LatenessMS: f64(0)}
		}
	}
	o.Checks = checks
	o.Episodes[0].Checks, o.Episodes[1].Checks = o.Checks[2:6], o.Checks[6:]
	rec2 := *o.Episodes[1].Recovery
	rec2.MeasuredS, rec2.FirstGoodS, rec2.Passed, rec2.Inconclusive = f64(12), f64(11.5), false, true
	rec2.Detail = "not recovered within 10s: latency p95 still 104ms at +10s; recovered late, at +12s"
	rec2.WithoutLateness = &runner.Judgement{Observed: "recovered in 0.5s", Passed: true, MeasuredS: f64(0.5)}
	o.Episodes[1].Recovery, o.Recovery = &rec2, &rec2
	o.Episodes[0].Recovery.WithoutLateness = &runner.Judgement{Observed: "recovered in 2s", Passed: true, MeasuredS: f64(2)}
	for i, p := range o.Phases {
		switch {
		case p.Name == "recovery" && p.Episode == 2:
			o.Phases[i].EndS, o.Phases[i].Ops, o.Phases[i].P95MS, o.Phases[i].P99MS = 102, 2400, 104, 140
		case p.Name == "steady" && p.Episode == 2:
			o.Phases[i].StartS, o.Phases[i].Ops = 102, 7600
		}
	}
	o.Inconclusive = []string{
		"fault #1 latency: p(95) < 50ms fails with the generator's own lateness (p95 = 51ms) and holds without it (p95 = 38ms): its lateness added 13ms",
		"recovery #2 within 10s fails with the generator's own lateness (not recovered within 10s: latency p95 still 104ms at +10s; recovered late, at +12s) " +
			"and holds without it (recovered in 0.5s)",
	}
	o.Generator = &runner.GeneratorHealth{
		Ops: 27000, LagP50MS: 0.1, LagP99MS: 13.2, LagMaxMS: 96, CPUPeak: 0.97, CPUSaturatedS: 3.5, Cores: 2,
		Busy: "generator lag p99 13.2ms > 5ms: the generator started operations late on its own",
		Offered: []runner.OfferedLoad{
			{Phase: "baseline", Scenario: "shoppers", Intended: 3000, Made: 3000},
			{Phase: "fault", Episode: 1, Scenario: "shoppers", Intended: 2000, Made: 2000, Dropped: 40},
			{Phase: "recovery", Episode: 1, Scenario: "shoppers", Intended: 400, Made: 400},
			{Phase: "steady", Episode: 1, Scenario: "shoppers", Intended: 8000, Made: 8000},
			{Phase: "fault", Episode: 2, Scenario: "shoppers", Intended: 2000, Made: 1996},
			{Phase: "recovery", Episode: 2, Scenario: "shoppers", Intended: 2400, Made: 2400},
			{Phase: "steady", Episode: 2, Scenario: "shoppers", Intended: 7600, Made: 7600},
		},
	}
	return o
}
