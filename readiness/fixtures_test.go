package readiness

import "github.com/chaosload/chaosload/runner"

func ptr(v float64) *float64 { return &v }

// loadRun is a passed run of 100 users for 180 s: p95 40ms, 0.2% errors,
// CPU 60% of one core on 2 cores, 120 MB, flat memory, 60 connections/s.
func loadRun() *runner.Outcome {
	return &runner.Outcome{
		Experiment: "load-100-users", Tags: []string{"load"}, Verdict: runner.Passed, Passed: true, DurationS: 180,
		Phases: []runner.Phase{{Name: "baseline", StartS: 0, EndS: 180, Ops: 50000, Errors: 100, OpsPerS: 277.8, OKPerS: 277.2,
			P50MS: 12, P95MS: 40, P99MS: 70}},
		Checks: []runner.Check{
			{Name: "latency: p(95) < 100ms", Phase: "baseline", Observed: "p95 = 40ms", Value: ptr(40), Passed: true},
			{Name: "conn_rate{protocol:http}: rate >= 50/s", Phase: "baseline", Observed: "rate = 60/s", Value: ptr(60), Passed: true},
		},
		Intervals: []runner.Interval{{TS: 0, VUs: 100, Ops: 25000, Errors: 50, ByClass: map[string]int64{"timeout": 50}},
			{TS: 90, VUs: 100, Ops: 25000, Errors: 50, ByClass: map[string]int64{"timeout": 50}}},
		Resources: &runner.Resources{Samples: 100, CPUPeak: 60, RSSPeak: 120e6, RSSSlope: ptr(0.1e6),
			PrivateSlope: ptr(0.05e6), TrendFromS: 5, TrendToS: 180,
			Processes: []runner.ProcessResources{{Name: "service"}, {Name: "postgres"}}},
		Generator: &runner.GeneratorHealth{Cores: 2},
		Pool:      &runner.PoolWait{Acquires: 20000, Waited: 10, WaitMS: 5},
		Targets:   []runner.TargetResult{{Name: "api", ProxyCounts: runner.ProxyCounts{Accepted: 40, BytesUp: 1e6, BytesDn: 5e6}}},
		Totals:    runner.Totals{Ops: 50000, Errors: 100, ByClass: map[string]int64{"timeout": 100}},
		Verify:    []runner.VerifyResult{{Step: "order", Acknowledged: 400, Verified: 400, Passed: true}},
		Steps: []runner.StepResult{{Name: "browse", Protocol: "http", Batch: 1, Ops: 25000, P95MS: 30},
			{Name: "order", Protocol: "http", Batch: 1, Ops: 25000, Errors: 100, P95MS: 40}},
	}
}

// stressRun steps 100 → 500 by 100: 100–300 hold, 400 breaks on p95 with
// http_503 errors; operating point 240 measured at 200 with p95 45ms;
// recovery after overload in 4 s.
func stressRun() *runner.Outcome {
	lv := func(l float64, pass bool, p95, cpu float64) runner.StressLevel {
		return runner.StressLevel{Level: l, StartS: (l/100 - 1) * 30, EndS: l / 100 * 30, Passed: pass, Ops: 3000, OKPerS: l * 5,
			P50MS: p95 / 3, P95MS: p95, P99MS: p95 * 2, CPUMax: ptr(cpu), RSSMax: ptr(200e6)}
	}
	return &runner.Outcome{
		Experiment: "stress-breaking-point", Tags: []string{"stress"}, Verdict: runner.Passed, Passed: true, DurationS: 150,
		Stress: &runner.StressResult{Unit: "vus", From: 100, Step: 100, To: 1000,
			Levels:   []runner.StressLevel{lv(100, true, 20, 50), lv(200, true, 45, 90), lv(300, true, 80, 130), lv(400, false, 340, 180)},
			Capacity: ptr(300), BreakingPoint: ptr(400), BrokenBy: []string{"latency: p(95) < 100ms (p95 = 340ms)"},
			OperatingPoint: &runner.OperatingPoint{Level: 240, P95MS: ptr(45), MeasuredAt: ptr(200)}, RecoverAt: ptr(100)},
		Recovery: &runner.Recovery{MeasuredS: ptr(4), WithinS: 30, Passed: true},
		Probes:   []runner.ProbeResult{{Name: "health", Attempts: 150, OK: 150, OKRate: 1}},
		Intervals: []runner.Interval{{TS: 30, ByClass: map[string]int64{"timeout": 2}},
			{TS: 95, ByClass: map[string]int64{"http_503": 70, "timeout": 5}}},
		Resources: &runner.Resources{Samples: 150, CPUPeak: 180, RSSPeak: 200e6},
		Generator: &runner.GeneratorHealth{Cores: 2},
	}
}

// faultRun is a passed fault run: one episode recovered in 3 s of 30 s,
// every degradation check held.
func faultRun() *runner.Outcome {
	return &runner.Outcome{
		Experiment: "db-exhaustion", Tags: []string{"faults"}, Verdict: runner.Passed, Passed: true, DurationS: 120,
		Episodes: []runner.Episode{{Number: 1, Faults: []string{"pg-connections-exhausted"},
			Recovery: &runner.Recovery{MeasuredS: ptr(3), WithinS: 30, Passed: true}}},
		Checks: []runner.Check{{Name: "errors{class:http_5xx}: count == 0", Phase: "fault", Episode: 1, Observed: "count = 0", Value: ptr(0), Passed: true}},
		Verify: []runner.VerifyResult{{Step: "order", Acknowledged: 900, Verified: 900, Passed: true}},
	}
}
