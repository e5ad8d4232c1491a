package main

import (
	"os"
	"strings"
	"testing"

	"github.com/chaosload/chaosload/runner"
)

// lossyOrders posts orders to the naive demo that acknowledges before
// commit (every 10th acknowledged order is lost) and verifies every
// acknowledged id by HTTP.
const lossyOrders = `
version: 1
name: lossy-orders
stack: {name: demo, mode: naive, ackBeforeCommit: true}
targets:
  api: {upstream: "${stack.api}", protocol: http}
warmup: 1s
scenarios:
  buyers:
    executor: constant-arrival-rate
    rate: 25
    timeUnit: 1s
    duration: 4s
    preAllocatedVUs: 5
    maxVUs: 20
    steps:
      - name: order
        http: {method: POST, url: "http://${targets.api}/api/orders", json: {product: 1, qty: 1}}
        ack: id
thresholds:
  errors: ["rate < 1%"]
verify:
  - acknowledged: order
    http: {url: "http://${stack.api}/api/orders/{id}", expect: 200}
`

// TestVerifyCatchesLostWrites: the naive demo acknowledging before commit
// loses every 10th order; verify by HTTP finds exactly those, names their
// ids, and fails the run (exit 1) although every request answered 201.
func TestVerifyCatchesLostWrites(t *testing.T) {
	r := runYAML(t, lossyOrders)
	r.expect(t, exitFailed, runner.Failed)
	out, stdout := r.out, r.stdout
	if len(out.Verify) != 1 {
		t.Fatalf("verify: %+v", out.Verify)
	}
	v := out.Verify[0]
	if v.Acknowledged < 50 || v.Lost != v.Acknowledged/10 || v.Verified != v.Acknowledged-v.Lost || len(v.LostIDs) == 0 {
		t.Fatalf("verify %+v: want every 10th of the acknowledged orders lost", v)
	}
	if out.Totals.Errors != 0 {
		t.Fatalf("%d requests failed: the loss must be invisible to the client", out.Totals.Errors)
	}
	if !strings.Contains(stdout, v.LostIDs[0]) {
		t.Errorf("the summary does not list lost id %s:\n%s", v.LostIDs[0], stdout)
	}
}

// TestVerifyHTTPHoldsOnGraceful: the same run against the graceful demo
// (ackBeforeCommit off) loses nothing and passes.
func TestVerifyHTTPHoldsOnGraceful(t *testing.T) {
	r := runYAML(t, lossyOrders, "--set", "stack.ackBeforeCommit=false", "--set", "stack.mode=graceful")
	r.expect(t, exitOK, runner.Passed)
	if v := r.out.Verify; len(v) != 1 || v[0].Lost != 0 || v[0].Verified == 0 {
		t.Fatalf("verify %+v\n%s", v, r.stdout)
	}
}

// monitored runs light load on the graceful demo with the stack's
// processes monitored and four probes: the service's health, Redis by TCP,
// PostgreSQL by SQL, and a page the service answers 404.
const monitored = `
version: 1
name: monitored
stack: {name: demo}
targets:
  api: {upstream: "${stack.api}", protocol: http}
  postgres: {upstream: "${stack.postgres}", protocol: postgres, dsn: "postgres://postgres@${stack.postgres}/shop"}
warmup: 1s
scenarios:
  browse:
    executor: constant-arrival-rate
    rate: 20
    duration: 5s
    preAllocatedVUs: 5
    steps:
      - name: products
        http: {method: GET, url: "http://${targets.api}/api/products"}
probes:
  health: {http: "http://${stack.api}/healthz", every: 250ms}
  redis: {tcp: "${stack.redis}", every: 250ms}
  db: {sql: "SELECT 1", target: postgres, every: 250ms}
  missing: {http: "http://${stack.api}/no-such-page", every: 250ms}
thresholds:
  target_rss: ["max < 64GB", "max < 1MB"]
  target_cpu: ["max < 10000"]
  target_fds: ["max > 5"]
  target_threads: ["min > 1"]
  "probe_ok{probe:health}": ["rate > 50%"]
  "probe_ok{probe:db}": ["rate > 50%"]
  "probe_ok{probe:redis}": ["rate > 50%"]
  "probe_ok{probe:missing}": ["rate > 50%"]
  "probe_latency{probe:health}": ["p(95) < 10s"]
`

// TestMonitorAndProbes: the demo stack's processes are sampled (RSS, CPU,
// fds, threads in the intervals and as thresholds); a bound no real
// process meets (RSS < 1 MB) fails, and so does a probe answered 404,
// while the health, SQL and TCP probes of the live stack succeed.
func TestMonitorAndProbes(t *testing.T) {
	r := runYAML(t, monitored)
	r.expect(t, exitFailed, runner.Failed)
	out := r.out
	want := map[string]bool{
		"target_rss: max < 64GB": true, "target_rss: max < 1MB": false, "target_cpu: max < 10000": true,
		"target_fds: max > 5": true, "target_threads: min > 1": true,
		"probe_ok{probe:health}: rate > 50%": true, "probe_ok{probe:db}: rate > 50%": true,
		"probe_ok{probe:redis}: rate > 50%": true, "probe_ok{probe:missing}: rate > 50%": false,
		"probe_latency{probe:health}: p(95) < 10s": true,
	}
	for _, c := range out.Checks {
		if pass, ok := want[c.Name]; ok {
			if c.Passed != pass {
				t.Errorf("%s: passed=%v (%s), want %v", c.Name, c.Passed, c.Observed, pass)
			}
			delete(want, c.Name)
		}
	}
	if len(want) > 0 {
		t.Errorf("checks missing: %v", want)
	}
	res := out.Resources
	if res == nil || res.Roles["postgres"] == 0 || res.Roles["service"] == 0 || res.RSSPeak < 1e6 || res.Samples < 3 {
		t.Fatalf("resources %+v", res)
	}
	// the service is a process of its own, figures and all
	if svc := res.Roles["service"]; svc == os.Getpid() || out.Stack.PIDs["service"] != svc {
		t.Errorf("service pid %d (stack says %d; this process is %d): want the service's own", svc, out.Stack.PIDs["service"], os.Getpid())
	}
	if len(res.Processes) < 2 || res.Processes[0].Name != "service" || res.Processes[0].PID != res.Roles["service"] ||
		res.Processes[0].RSSPeak < 1e6 || res.Processes[0].ThreadsPeak < 1 {
		t.Errorf("per-process resources %+v, want the service first with its own figures", res.Processes)
	}
	withRes := 0
	for _, iv := range out.Intervals {
		if iv.Resources["target_rss"] > 0 {
			withRes++
		}
	}
	if withRes < len(out.Intervals)/2 {
		t.Errorf("only %d of %d intervals carry resources", withRes, len(out.Intervals))
	}
	for _, p := range out.Probes {
		if p.Attempts < 4 {
			t.Errorf("probe %s: %d attempts in 6s at 4/s", p.Name, p.Attempts)
		}
	}
}

// ladder steps an open-model load 20 → 40 → 120 iterations per second on
// the graceful demo, with a throughput ceiling as the threshold that
// breaks: 120/s exceeds 80/s whatever the machine, so the breaking point is
// known; then load drops back to 20/s and recovery is measured.
const ladder = `
version: 1
name: ladder
stack: {name: demo}
targets:
  api: {upstream: "${stack.api}", protocol: http}
scenarios:
  browse:
    executor: constant-arrival-rate
    rate: 1
    duration: 1s
    preAllocatedVUs: 10
    maxVUs: 100
    steps:
      - name: products
        http: {method: GET, url: "http://${targets.api}/api/products"}
stress: {unit: rate, from: 20, step: 20, to: 120, every: 3s, settle: 1s}
monitor: {every: 250ms}
thresholds:
  ops: ["rate < 70/s"]
  latency: ["p(95) < 2s"]
  target_rss: ["max < 8GB"]
recovery: {within: 3s, hold: 2s, window: 1s}
`

// TestStressLadder: the levels run in order until the first that breaks a
// threshold: 80/s, where the ops ceiling of 70/s breaks whatever the
// machine (the latency bound, p(95) < 2s, is far beyond what 80 requests/s
// cost the demo: only a defect breaks it earlier). The capacity is the
// level before, the operating point 80% of it, the curve has a point per
// level run, and load back at 20/s recovers within the bound.
func TestStressLadder(t *testing.T) {
	r := runYAML(t, ladder)
	r.expect(t, exitOK, runner.Passed)
	out, st := r.out, r.out.Stress
	if st == nil || st.BreakingPoint == nil || *st.BreakingPoint != 80 || len(st.Levels) != 4 {
		t.Fatalf("stress %+v: want the breaking point at 80/s, the 4th level\n%s", st, r.stdout)
	}
	for i, lv := range st.Levels {
		if want := 20 * float64(i+1); lv.Level != want || lv.Passed != (lv.Level < 80) || lv.RSSMax == nil {
			t.Errorf("level %d: %+v, want level %g, passed %v, RSS sampled", i, lv, want, lv.Level < 80)
		}
		if lv.OpsPerS < lv.Level*0.8 || lv.OpsPerS > lv.Level*1.2 {
			t.Errorf("level %g measured %.1f ops/s", lv.Level, lv.OpsPerS)
		}
	}
	if len(st.BrokenBy) != 1 || !strings.HasPrefix(st.BrokenBy[0], "ops") {
		t.Errorf("broken by %v, want the ops ceiling alone", st.BrokenBy)
	}
	if op := st.OperatingPoint; st.Capacity == nil || *st.Capacity != 60 || op == nil || op.Level != 48 ||
		op.MeasuredAt == nil || *op.MeasuredAt != 40 || op.P95MS == nil {
		t.Fatalf("capacity %v, operating point %+v; want 60, and 48 measured at 40", st.Capacity, op)
	}
	if out.Recovery == nil || !out.Recovery.Passed || out.Recovery.MeasuredS == nil {
		t.Fatalf("recovery after overload: %+v", out.Recovery)
	}
	for _, want := range []string{"Breaking point: 80", "After overload, back at 20"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.stdout)
		}
	}
}

// shortStress shortens a bundled stress experiment: 3 s levels (1 s
// settle), recovery judged within 8 s (hold 2 s, window 1 s). The levels and
// verify are the file's own.
var shortStress = []string{
	"--set", "stress.every=3s", "--set", "stress.settle=1s",
	"--set", "recovery.within=8s", "--set", "recovery.hold=2s", "--set", "recovery.window=1s",
}

// TestStressBreakingPointShort runs experiments/stress-breaking-point.yaml
// shortened and stopped at 300 users: the levels run in order from 100 by
// 100, every one holds, so the capacity is 300 users and no breaking point
// is reported; nothing acknowledged is lost.
//
// Where the demo really breaks depends on the machine (the README gives a
// full run's figures), so the test does not look for it: the steady-state
// latency bound is lifted from the file's p(95) < 100ms to p(95) < 1s,
// which 300 users on the demo stay far below unless something is wrong
// (the error and health-probe bounds are the file's). The breaking point
// itself is proven by TestStressLadder, on a ceiling that breaks whatever
// the machine.
func TestStressBreakingPointShort(t *testing.T) {
	r := runFile(t, "../../experiments/stress-breaking-point.yaml",
		append([]string{"--set", "stress.to=300", "--set", "thresholds.latency=p(95) < 1s"}, shortStress...)...)
	r.expect(t, exitOK, runner.Passed)
	st := r.out.Stress
	if st == nil || len(st.Levels) != 3 {
		t.Fatalf("stress %+v, want 3 levels\n%s", st, r.stdout)
	}
	for i, lv := range st.Levels {
		if lv.Level != 100*float64(i+1) || lv.Ops == 0 || len(lv.Checks) != 3 || !lv.Passed {
			t.Errorf("level %d: %+v, want level %d held, its 3 checks judged", i, lv, 100*(i+1))
		}
		if len(lv.Steps) != 2 || lv.Steps[0].Name != "browse" || lv.Steps[1].Name != "order" || lv.Steps[0].Ops == 0 || lv.Steps[1].Ops == 0 {
			t.Errorf("level %d: steps %+v, want browse and order with their operations", i, lv.Steps)
		}
	}
	if st.BreakingPoint != nil || st.Capacity == nil || *st.Capacity != 300 || r.out.Recovery != nil {
		t.Errorf("every level held: capacity %v, breaking point %v, recovery %+v; want 300, none, none",
			st.Capacity, st.BreakingPoint, r.out.Recovery)
	}
	if v := r.out.Verify; len(v) != 1 || v[0].Lost != 0 || v[0].Acknowledged == 0 {
		t.Errorf("verify %+v", v)
	}
	// the health probe is summed up over the run, as in any run: what the
	// readiness report's monitoring criterion reads
	if p := r.out.Probes; len(p) != 1 || p[0].Name != "health" || p[0].Attempts == 0 {
		t.Errorf("probes %+v, want the health probe's attempts", p)
	}
	if !strings.Contains(r.stdout, "Stress: VUs 100 → 300 by 100") {
		t.Errorf("no stress section:\n%s", r.stdout)
	}
}

// TestOverloadRecoveryShort runs experiments/overload-recovery.yaml
// shortened: 100/s holds; the 5000/s overload breaks; back at 100/s the
// service recovers within the bound: exit 0.
//
// So that the overload breaks whatever the machine, the test adds a
// throughput ceiling of 1,000 operations/s (the 100/s level offers 200): a
// machine that serves 5000/s breaks it, one that cannot drops arrivals and
// breaks the error bound. The steady-state latency bound is lifted to
// p(95) < 1s, which the demo at 100/s stays far below unless something is
// wrong; the error and memory bounds are the file's.
func TestOverloadRecoveryShort(t *testing.T) {
	r := runFile(t, "../../experiments/overload-recovery.yaml",
		append([]string{"--set", "thresholds.ops=rate < 1000/s", "--set", "thresholds.latency=p(95) < 1s"}, shortStress...)...)
	r.expect(t, exitOK, runner.Passed)
	st, out := r.out.Stress, r.out
	if st == nil || len(st.Levels) != 2 || !st.Levels[0].Passed || st.Levels[1].Passed {
		t.Fatalf("stress %+v: want two levels, 100/s holding, 5000/s breaking\n%s", st, r.stdout)
	}
	if st.Capacity == nil || *st.Capacity != 100 || st.BreakingPoint == nil || *st.BreakingPoint != 5000 {
		t.Errorf("capacity %v, breaking point %v; want 100 and 5000", st.Capacity, st.BreakingPoint)
	}
	if out.Recovery == nil || !out.Recovery.Passed || st.RecoverAt == nil || *st.RecoverAt != 100 {
		t.Fatalf("recovery after overload: %+v (back at %v)\n%s", out.Recovery, st.RecoverAt, r.stdout)
	}
	if v := out.Verify; len(v) != 1 || v[0].Lost != 0 || v[0].Acknowledged == 0 {
		t.Errorf("verify %+v", v)
	}
}
