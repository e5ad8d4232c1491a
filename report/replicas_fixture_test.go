package report

import (
	"time"

	"github.com/chaosload/chaosload/runner"
)

// replicasOutcome is a run against three replicas of api behind a load
// balancer: one replica, drawn from seed 7, fails from 10 s to 20 s; the
// balancer takes it out of rotation after 1.5 s (12 requests reached it)
// and back 0.75 s after the revert.
func replicasOutcome() *runner.Outcome {
	faultPhase := runner.Phase{Name: "fault", Episode: 1, StartS: 10, EndS: 20, Ops: 2000, Errors: 12, OpsPerS: 200, OKPerS: 198.8, P50MS: 1.1, P95MS: 3, P99MS: 5}
	o := &runner.Outcome{
		SchemaVersion: runner.SchemaVersion, Experiment: "api-replica-fails", File: "experiments/replicas.yaml",
		Verdict: runner.Passed, Passed: true, Seed: 7, StartedAt: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC), DurationS: 30,
		Targets: []runner.TargetResult{{
			Name: "api", Protocol: "http", Listen: "127.0.0.1:41001,127.0.0.1:41002,127.0.0.1:41003",
			Upstream: "127.0.0.1:40001,127.0.0.1:40002,127.0.0.1:40003", ProxyCounts: runner.ProxyCounts{Accepted: 30, Requests: 6000},
			FastPath: "copy", Replicas: []runner.ReplicaResult{
				{Name: "api[0]", Listen: "127.0.0.1:41001", Upstream: "127.0.0.1:40001", ProxyCounts: runner.ProxyCounts{Accepted: 10, Requests: 2300}},
				{Name: "api[1]", Listen: "127.0.0.1:41002", Upstream: "127.0.0.1:40002", ProxyCounts: runner.ProxyCounts{Accepted: 10, Requests: 1400}},
				{Name: "api[2]", Listen: "127.0.0.1:41003", Upstream: "127.0.0.1:40003", ProxyCounts: runner.ProxyCounts{Accepted: 10, Requests: 2300}},
			},
		}},
		Phases: []runner.Phase{
			{Name: "baseline", StartS: 0, EndS: 10, Ops: 2000, OpsPerS: 200, OKPerS: 200, P50MS: 0.9, P95MS: 1.5, P99MS: 2.2},
			faultPhase,
			{Name: "steady", Episode: 1, StartS: 20, EndS: 30, Ops: 2000, OpsPerS: 200, OKPerS: 200, P50MS: 0.9, P95MS: 1.5, P99MS: 2.3},
		},
		Checks: []runner.Check{
			{Name: "rotation{target:api}: out < 5s (api[1], fault api-1-fails)", Phase: "fault", Episode: 1, Expression: "out < 5s", Observed: "api[1]: out = 1.5s", Value: f64(1500), Passed: true},
			{Name: "rotation{target:api}: back < 10s (api[1], fault api-1-fails)", Phase: "fault", Episode: 1, Expression: "back < 10s", Observed: "api[1]: back = 750ms", Value: f64(750), Passed: true},
		},
		Faults: []runner.FaultResult{{
			Name: "api-1-fails", Kind: "http-error", Target: "api", AppliedS: f64(10), RevertedS: f64(20), ApplyMS: 1, RevertMS: 1,
			Effect:    &runner.FaultEffect{Changed: true, RequestsErrored: 12},
			Selection: &runner.Selection{Select: "one", Seeded: true, Replicas: []runner.SelectedReplica{{Index: 1, Name: "api[1]", Listen: "127.0.0.1:41002", Upstream: "127.0.0.1:40002"}}},
		}},
		Totals:    runner.Totals{Ops: 6000, Errors: 12, ByClass: map[string]int64{"http_503": 12}},
		IntervalS: 0.25,
	}
	o.Intervals = syntheticIntervals(30, 0.25, 10, 20)
	o.Traffic = []runner.TargetTraffic{syntheticTraffic()}
	o.Episodes = []runner.Episode{{
		Number: 1, Faults: []string{"api-1-fails"}, StartS: 10, EndS: 20, InEffectS: 10, FaultPhase: faultPhase, Checks: o.Checks,
		Rotation: []runner.RotationResult{{Fault: "api-1-fails", Target: "api", Replica: "api[1]", Index: 1, OutS: f64(1.5), BackS: f64(0.75), Reached: 12, Share: 0.5}},
	}}
	return o
}

// syntheticTraffic is api's three replicas sampled every 0.5 s for 30 s:
// 50 requests per sample shared evenly, api[1] none from 11.5 s to 20.75 s.
func syntheticTraffic() runner.TargetTraffic {
	tt := runner.TargetTraffic{Target: "api", Protocol: "http", Work: "requests"}
	phases := [][3]int64{{667, 666, 667}, {1000, 12, 988}, {667, 666, 667}} // baseline, fault, steady (of 2000 each)
	for i := range 3 {
		r := runner.ReplicaTraffic{Name: []string{"api[0]", "api[1]", "api[2]"}[i], Listen: "127.0.0.1:4100" + string(rune('1'+i))}
		var req int64
		for k := 0; k <= 60; k++ {
			ts := float64(k) / 2
			if k > 0 {
				req += perSample(i, ts)
			}
			r.Points = append(r.Points, runner.TrafficPoint{TS: ts, Conns: 10, Active: 10, Requests: req, BytesUp: req * 100, BytesDn: req * 400})
		}
		for p, name := range []string{"baseline", "fault", "steady"} {
			r.Phases = append(r.Phases, runner.PhaseWork{Phase: name, Episode: min(p, 1), Work: phases[p][i], Share: float64(phases[p][i]) / 2000})
		}
		tt.Replicas = append(tt.Replicas, r)
	}
	return tt
}

// perSample is replica i's requests in the half second ending at ts.
func perSample(i int, ts float64) int64 {
	out := ts > 11.5 && ts <= 20.75
	switch {
	case out && i == 1:
		return 0
	case out:
		return 25
	}
	return map[int]int64{0: 17, 1: 16, 2: 17}[i]
}
