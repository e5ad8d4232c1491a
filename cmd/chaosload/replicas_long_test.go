//go:build longtests

package main

import (
	"math"
	"strings"
	"testing"

	"github.com/chaosload/chaosload/runner"
)

// shortReplicas runs experiments/replica-failure*.yaml in 47 s: the down
// fault at 8 s for 6 s, the slow one at 27 s for 6 s (13 s apart, so each
// is its own episode with recovery.within 10s, hold 1s, window 1s).
var shortReplicas = []string{
	"--set", "scenarios.shoppers.duration=47s",
	"--set", "faults.replica-down.startTime=8s", "--set", "faults.replica-down.duration=6s",
	"--set", "faults.replica-slow.startTime=27s", "--set", "faults.replica-slow.duration=6s",
	"--set", "recovery.within=10s", "--set", "recovery.hold=1s", "--set", "recovery.window=1s",
}

// TestReplicaFailureAgreesWithHAProxy: the bundled replica experiment,
// shortened, passes; the requests chaosload's proxies counted per replica
// agree with haproxy's own per-server counters (its stats socket) within
// 2% of the run's requests; and the rotation chaosload measured agrees
// with the state changes haproxy logged within one interval: the slowed
// replica out (haproxy's DOWN) and each replica back (haproxy's UP). The
// downed replica's out is not compared: its proxy refuses connections from
// the fault's start, so no work reaches it (out 0 s) while haproxy logs
// DOWN only after two failed checks.
func TestReplicaFailureAgreesWithHAProxy(t *testing.T) {
	r := runFile(t, "../../experiments/replica-failure.yaml", shortReplicas...)
	r.expect(t, exitOK, runner.Passed)
	out := r.out
	b := out.Stack.Balancer
	if b == nil || len(b.Servers) != 3 || len(out.Traffic) == 0 {
		t.Fatalf("balancer %+v, traffic %d targets: want 3 servers and the series\n%s", b, len(out.Traffic), r.stdout)
	}
	api := trafficNamed(out, "api")
	var total int64
	for _, s := range b.Servers {
		total += s.Requests
	}
	for i, s := range b.Servers {
		pts := api.Replicas[i].Points
		ours := pts[len(pts)-1].Requests
		if diff := math.Abs(float64(ours - s.Requests)); diff > 0.02*float64(total) {
			t.Errorf("replica %d: chaosload counted %d requests, haproxy %d (of %d): more than 2%% apart", i, ours, s.Requests, total)
		}
		t.Logf("replica %d: chaosload %d requests, haproxy %d", i, ours, s.Requests)
	}
	interval := out.IntervalS
	compared := 0
	for _, ep := range out.Episodes {
		for _, rr := range ep.Rotation {
			f := faultNamed(out, rr.Fault)
			if rr.OutS == nil || rr.BackS == nil || f == nil || f.AppliedS == nil || f.RevertedS == nil {
				t.Fatalf("episode %d rotation %+v: want out and back measured\n%s", ep.Number, rr, r.stdout)
			}
			if rr.Fault == "replica-slow" {
				down := firstEvent(b.Events, rr.Index, "DOWN", *f.AppliedS)
				expectNear(t, rr.Replica+" out", *f.AppliedS+*rr.OutS, down, interval)
				compared++
			}
			up := firstEvent(b.Events, rr.Index, "UP", *f.RevertedS)
			expectNear(t, rr.Replica+" back", *f.RevertedS+*rr.BackS, up, interval)
			compared++
		}
	}
	if compared != 3 {
		t.Fatalf("%d rotation times compared with haproxy's log, want 3 (slow out, both backs)\n%s", compared, r.stdout)
	}
}

// TestReplicaFailureWithoutHealthChecksFails: with the balancer's health
// checks off, the slowed replica never leaves rotation: exit 1, and the
// failed check is the rotation's.
func TestReplicaFailureWithoutHealthChecksFails(t *testing.T) {
	r := runFile(t, "../../experiments/replica-failure-no-health-checks.yaml", shortReplicas...)
	r.expect(t, exitFailed, runner.Failed)
	var failed []string
	for _, c := range r.out.Checks {
		if !c.Passed {
			failed = append(failed, c.Name)
		}
	}
	if len(failed) == 0 || !strings.HasPrefix(failed[0], "rotation{target:api}: out < 5s") {
		t.Fatalf("failed checks %q: want the rotation's out < 5s first\n%s", failed, r.stdout)
	}
	t.Logf("failed: %q", failed)
}

func trafficNamed(out *runner.Outcome, target string) runner.TargetTraffic {
	for _, tt := range out.Traffic {
		if tt.Target == target {
			return tt
		}
	}
	return runner.TargetTraffic{}
}

func faultNamed(out *runner.Outcome, name string) *runner.FaultResult {
	for i := range out.Faults {
		if out.Faults[i].Name == name {
			return &out.Faults[i]
		}
	}
	return nil
}

// firstEvent is when haproxy first logged replica in state after from
// (NaN when it did not).
func firstEvent(evs []runner.BalancerEvent, replica int, state string, from float64) float64 {
	for _, e := range evs {
		if e.Replica == replica && e.State == state && e.AtS >= from {
			return e.AtS
		}
	}
	return math.NaN()
}

func expectNear(t *testing.T, what string, ours, theirs, interval float64) {
	t.Helper()
	if math.IsNaN(theirs) || math.Abs(ours-theirs) > interval {
		t.Errorf("%s: chaosload %.2fs, haproxy's log %.2fs: more than one interval (%.2fs) apart", what, ours, theirs, interval)
		return
	}
	t.Logf("%s: chaosload %.2fs, haproxy's log %.2fs", what, ours, theirs)
}
