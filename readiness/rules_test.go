package readiness

import (
	"fmt"
	"testing"

	"github.com/chaosload/chaosload/runner"
)

// only returns the findings of one rule.
func only(rule string, outs ...*runner.Outcome) []Finding {
	var out []Finding
	for _, f := range Findings(outs) {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

func TestRules(t *testing.T) {
	t.Parallel()
	cpuBound := stressRun()
	cpuBound.Stress.Levels[3].CPUMax = ptr(190) // 95% of 2 cores at the breaking point
	waitBound := stressRun()
	waitBound.Stress.Levels[3].CPUMax = ptr(100) // 50% of 2 cores
	slow := faultRun()
	slow.Episodes[0].Recovery = &runner.Recovery{MeasuredS: ptr(20), WithinS: 30, Passed: true, Flaps: 1}
	lost := faultRun()
	lost.Episodes[0].Recovery = &runner.Recovery{WithinS: 30, Detail: "not recovered: p95 still 340ms at +30s"}
	leaky := loadRun()
	leaky.Resources.PrivateSlope = ptr(6e6) // 6 MB/min over 175 s = 17.5 MB of a 120 MB peak
	queued := loadRun()
	queued.Pool = &runner.PoolWait{Acquires: 20000, Waited: 3000, WaitMS: 12000} // 15% waited, 4 ms each
	churny := loadRun()
	churny.Targets[0].Accepted = 30000 // for 50000 operations
	busy := loadRun()
	busy.Generator = &runner.GeneratorHealth{Cores: 2, LagP99MS: 12, CPUPeak: 0.97, Busy: "lag p99 12ms"}
	slowOrder := loadRun()
	slowOrder.Steps[1].P95MS = 95 // 3.17 × browse's 30ms
	stepStress := stressRun()
	stepStress.Stress.Levels[1].Steps = []runner.StepResult{{Name: "browse", Ops: 900, P95MS: 3}, {Name: "order", Ops: 900, P95MS: 42}}
	stepStress.Stress.Levels[3].Steps = []runner.StepResult{{Name: "browse", Ops: 900, P95MS: 300}, {Name: "order", Ops: 900, P95MS: 340}}
	busy2 := faultRun()
	busy2.Generator = &runner.GeneratorHealth{Cores: 2, Busy: "CPU saturated 6s"}
	for _, tc := range []struct {
		rule    string
		outs    []*runner.Outcome
		text    string
		figures string
	}{
		// a capacity gives an operating point, with the breaking point and the p95 there
		{"operating-point", []*runner.Outcome{stressRun()},
			"Plan for at most 240 users (80% of the capacity 300 measured by stress-breaking-point).",
			"[{stress-breaking-point capacity (last level that held) 300 users} {stress-breaking-point breaking point 400 users: latency: p(95) < 100ms (p95 = 340ms)} {stress-breaking-point p95 at 200 users 45ms}]"},
		// CPU at 95% of the cores at the breaking point saturates first
		{"first-to-saturate", []*runner.Outcome{cpuBound},
			"CPU saturates first: at the breaking point (400 users) the monitored processes used 95% of the machine's cores; more cores, or less CPU per request, raise the capacity.",
			"[{stress-breaking-point breaking point 400 users: latency: p(95) < 100ms (p95 = 340ms)} {stress-breaking-point CPU of the monitored processes at 400 users 190% of one core = 95% of 2 cores} {stress-breaking-point memory at 400 users 200MB}]"},
		// CPU at 50% of the cores: the limit is not the CPU
		{"first-to-saturate", []*runner.Outcome{waitBound},
			"The breaking point (400 users) is not CPU-bound: the monitored processes used 50% of the machine's cores there; the limit is elsewhere (what broke is cited).",
			"[{stress-breaking-point breaking point 400 users: latency: p(95) < 100ms (p95 = 340ms)} {stress-breaking-point CPU of the monitored processes at 400 users 100% of one core = 50% of 2 cores} {stress-breaking-point memory at 400 users 200MB}]"},
		// more than half the bound, with a flap
		{"slow-recovery", []*runner.Outcome{slow},
			"db-exhaustion recovered episode 1: pg-connections-exhausted in 20s, more than half its 30s bound: little margin.",
			"[{db-exhaustion recovery episode 1: pg-connections-exhausted 20s} {db-exhaustion recovery bound 30s} {db-exhaustion flaps 1}]"},
		// not recovered at all
		{"slow-recovery", []*runner.Outcome{lost},
			"db-exhaustion did not recover after episode 1: pg-connections-exhausted: not recovered: p95 still 340ms at +30s.",
			"[{db-exhaustion recovery bound 30s} {db-exhaustion flaps 0}]"},
		// http_503 only on the level that broke; timeout also where load held, so not cited
		{"stress-only-errors", []*runner.Outcome{loadRun(), stressRun()},
			"Errors of class http_503 appear only under overload (levels 400), never where the load held: the service's behaviour past its capacity.",
			"[{stress-breaking-point http_503 errors on levels that broke 70} {stress-breaking-point http_503 errors on levels that held and in other runs 0}]"},
		// 15 MB growth of a 120 MB peak over 180 s
		{"memory-slope", []*runner.Outcome{leaky},
			"Private memory of service+postgres grew 17.5MB over 175s after load-100-users's warm-up (14.6% of its peak RSS): a leak candidate; a longer run shows whether it levels off.",
			"[{load-100-users private memory slope 6MB/min} {load-100-users RSS peak 120MB} {load-100-users trend fitted 5s to 180s}]"},
		// one step's p95 is over twice the other's
		{"dominant-step", []*runner.Outcome{slowOrder},
			"In load-100-users, over the whole run, step order dominates the latency: p95 95ms, 3.17 times the next step's (browse, 30ms); it is where time goes.",
			"[{load-100-users step order p95 over the whole run (25000 operations) 95ms} {load-100-users step browse p95 over the whole run (25000 operations) 30ms}]"},
		// a stress run: at the level its operating point was measured at (200)
		{"dominant-step", []*runner.Outcome{stepStress},
			"In stress-breaking-point, at 200 users (where the operating point was measured), step order dominates the latency: p95 42ms, 14 times the next step's (browse, 3ms); it is where time goes.",
			"[{stress-breaking-point step order p95 at 200 users (where the operating point was measured) (900 operations) 42ms} {stress-breaking-point step browse p95 at 200 users (where the operating point was measured) (900 operations) 3ms}]"},
		// 0.6 connections per operation
		{"connection-churn", []*runner.Outcome{churny},
			"load-100-users: target api accepted 30000 connections for 50000 operations (0.6 per operation): connections are opened rather than reused; keep-alive or a pool would spare the handshakes.",
			"[{load-100-users connections accepted by api 30000} {load-100-users operations 50000}]"},
		// 15% of the acquires waited 4 ms each for a pooled connection
		{"pool-wait", []*runner.Outcome{queued},
			"load-100-users: 3000 of 20000 PostgreSQL connection acquires (15%) found the service's pool empty and waited 4 ms on average: requests queue for a pooled connection; a larger pool (within the server's max_connections) or shorter-held connections would cut that wait.",
			"[{load-100-users pool acquires 20000} {load-100-users acquires that waited for a connection 3000} {load-100-users time they waited, summed 12000 ms}]"},
		// the generator's own limits: one finding for every busy run
		{"generator-busy", []*runner.Outcome{busy, faultRun(), busy2},
			"The load generator was busy beyond its limits in 2 run(s) (load-100-users, db-exhaustion): the figures at that load are partly its own; run the load from more workers or another machine to separate them.",
			"[{load-100-users generator lag p99 12ms} {db-exhaustion generator CPU saturated 6s}]"},
	} {
		fs := only(tc.rule, tc.outs...)
		if len(fs) != 1 {
			t.Errorf("%s: %d findings, want 1: %+v", tc.rule, len(fs), fs)
			continue
		}
		if fs[0].Text != tc.text || fmt.Sprint(fs[0].Figures) != tc.figures {
			t.Errorf("%s:\n got %q\n     %s\nwant %q\n     %s", tc.rule, fs[0].Text, fmt.Sprint(fs[0].Figures), tc.text, tc.figures)
		}
	}
}

// TestRulesSilentOnHealthyRuns: no rule speaks without the data for it (a
// healthy load run and fault run give no finding; 10 of 20,000 acquires
// waiting is no queue, and a fault run's pool waits are the fault's).
func TestRulesSilentOnHealthyRuns(t *testing.T) {
	t.Parallel()
	exhausted := faultRun()
	exhausted.Pool = &runner.PoolWait{Acquires: 20000, Waited: 3000, WaitMS: 12000}
	if fs := Findings([]*runner.Outcome{loadRun(), faultRun(), exhausted}); len(fs) != 0 {
		t.Fatalf("findings on healthy runs: %+v", fs)
	}
}

func TestEveryRuleDocumented(t *testing.T) {
	for _, r := range Rules() {
		if r.Doc == "" || (r.Kind != "capacity" && r.Kind != "optimisation") {
			t.Errorf("rule %s: kind %q, doc %q", r.Name, r.Kind, r.Doc)
		}
	}
}
