package report

import (
	"math"
	"time"

	"github.com/chaosload/chaosload/runner"
)

// The outcomes the renderers are tested on: built in code, deterministic,
// shaped like real runs of experiments/db-exhaustion.yaml.

func f64(v float64) *float64 { return &v }

// passedOutcome: 60 s at 200/s, the pool exhausted from 20 s to 35 s (503s
// shed, latency up), recovered 0.5 s after the revert.
func passedOutcome() *runner.Outcome {
	o := &runner.Outcome{
		SchemaVersion: runner.SchemaVersion, Experiment: "db-exhaustion", File: "experiments/db-exhaustion.yaml",
		Description: "PostgreSQL runs out of connections while users shop.\nThe API must shed load with 503s.",
		Verdict:     runner.Passed, Passed: true, Seed: 42,
		StartedAt: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC), DurationS: 60,
		Stack: &runner.StackInfo{Name: "demo", Mode: "graceful", API: "127.0.0.1:40001", Postgres: "127.0.0.1:40002", Redis: "127.0.0.1:40003"},
		Targets: []runner.TargetResult{
			{Name: "api", Protocol: "http", Listen: "127.0.0.1:41001", Upstream: "127.0.0.1:40001", Accepted: 120, BytesUp: 90000, BytesDn: 400000},
			{Name: "postgres", Protocol: "postgres", Listen: "127.0.0.1:41002", Upstream: "127.0.0.1:40002", Accepted: 30, Reset: 8},
		},
		Phases: []runner.Phase{
			{Name: "warm-up", StartS: 0, EndS: 10, Ops: 2000, OpsPerS: 200, OKPerS: 200, P50MS: 0.9, P95MS: 1.6, P99MS: 2.4},
			{Name: "baseline", StartS: 10, EndS: 20, Ops: 2000, OpsPerS: 200, OKPerS: 200, P50MS: 0.9, P95MS: 1.5, P99MS: 2.2},
			{Name: "fault", StartS: 20, EndS: 35, Ops: 3000, Errors: 1200, OpsPerS: 200, OKPerS: 120, P50MS: 3.1, P95MS: 48, P99MS: 61},
			{Name: "recovery", StartS: 35, EndS: 35.5, Ops: 100, Errors: 4, OpsPerS: 200, OKPerS: 192, P50MS: 1.2, P95MS: 9.5, P99MS: 12},
			{Name: "steady", StartS: 35.5, EndS: 60, Ops: 4900, OpsPerS: 200, OKPerS: 200, P50MS: 0.9, P95MS: 1.5, P99MS: 2.3},
		},
		Checks: []runner.Check{
			{Name: "latency: p(95) < 100ms", Phase: "baseline", Expression: "p(95) < 100ms", Observed: "p95 = 1.5ms", Value: f64(1.5), Passed: true},
			{Name: "errors: rate < 1%", Phase: "baseline", Expression: "rate < 1%", Observed: "rate = 0% (0/2000)", Value: f64(0), Passed: true},
			{Name: "errors: rate < 60%", Phase: "fault", Expression: "rate < 60%", Observed: "rate = 40% (1200/3000)", Value: f64(0.4), Passed: true},
			{Name: "errors{class:http_5xx}: count == 0", Phase: "fault", Expression: "count == 0", Observed: "count = 0", Value: f64(0), Passed: true},
			{Name: "latency: p(95) < 100ms", Phase: "steady", Expression: "p(95) < 100ms", Observed: "p95 = 1.5ms", Value: f64(1.5), Passed: true},
			{Name: "errors: rate < 1%", Phase: "steady", Expression: "rate < 1%", Observed: "rate = 0% (0/4900)", Value: f64(0), Passed: true},
		},
		Recovery: &runner.Recovery{
			MeasuredS: f64(0.5), WithinS: 30, HoldS: 10, WindowS: 5, Passed: true, FaultEndS: 35, FirstGoodS: f64(0.5),
		},
		Faults: []runner.FaultResult{
			{Name: "pg-connections-exhausted", Kind: "pool-exhaustion", Target: "postgres", AppliedS: f64(20), RevertedS: f64(35), ApplyMS: 41, RevertMS: 3},
			{Name: "drop-app-connections", Kind: "reset", Target: "postgres", AppliedS: f64(20), RevertedS: f64(20), ApplyMS: 1},
		},
		Verify:    []runner.VerifyResult{{Step: "order", Target: "postgres", Acknowledged: 5400, Verified: 5400, Passed: true}},
		Totals:    runner.Totals{Ops: 12000, Errors: 1204, ByClass: map[string]int64{"http_503": 1150, "timeout": 54}},
		IntervalS: 0.25,
	}
	o.Intervals = syntheticIntervals(60, 0.25, 20, 35)
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
	o.Checks[3] = runner.Check{Name: "errors{class:http_5xx}: count == 0", Phase: "fault", Expression: "count == 0", Observed: "count = 913", Value: f64(913)}
	o.Checks = o.Checks[:4]
	o.Checks = append(o.Checks, runner.Check{Name: "latency: p(95) < 100ms", Phase: "steady", Expression: "p(95) < 100ms", Observed: "not judged: no steady phase (the service did not recover)", Skipped: true})
	o.Phases = o.Phases[:4]
	o.Phases[3].EndS, o.Phases[3].Ops, o.Phases[3].P95MS = 60, 5000, 340
	o.Recovery = &runner.Recovery{WithinS: 10, HoldS: 5, WindowS: 2, FaultEndS: 35, Flaps: 2,
		Detail: "not recovered within 10s: latency p95 still 340ms at +10s"}
	o.Verify = []runner.VerifyResult{{Step: "order", Target: "postgres", Acknowledged: 5400, Verified: 5397, Lost: 3, LostIDs: []string{"101", "102", "103"}}}
	o.Totals.ByClass = map[string]int64{"http_5xx": 913, "http_503": 230, "timeout": 61}
	o.Warnings = []string{`scenario "walkers" uses constant-vus (a closed model)`}
	base := passedOutcome()
	base.Phases[1].P95MS = 1.2 // the baseline was faster before the fault
	o.Compare(Compare(o, base, "baseline.json", 0.10))
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
