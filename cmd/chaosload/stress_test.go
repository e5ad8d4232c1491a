package main

import (
	"fmt"
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
	if testing.Short() {
		t.Skip("runs the demo stack")
	}
	t.Parallel()
	code, stdout, out := runYAML(t, lossyOrders)
	if !codeIs(t, code, out, exitFailed) || out.Verdict != runner.Failed {
		t.Fatalf("exit %d, verdict %s, want 1/failed\n%s", code, out.Verdict, stdout)
	}
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
	if testing.Short() {
		t.Skip("runs the demo stack")
	}
	t.Parallel()
	code, stdout, out := runYAML(t, lossyOrders, "--set", "stack.ackBeforeCommit=false", "--set", "stack.mode=graceful")
	if !codeIs(t, code, out, exitOK) || len(out.Verify) != 1 || out.Verify[0].Lost != 0 || out.Verify[0].Verified == 0 {
		t.Fatalf("exit %d, verify %+v\n%s", code, out.Verify, stdout)
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
	if testing.Short() {
		t.Skip("runs the demo stack")
	}
	t.Parallel()
	code, stdout, out := runYAML(t, monitored)
	if !codeIs(t, code, out, exitFailed) || out.Verdict != runner.Failed {
		t.Fatalf("exit %d, want 1\n%s", code, stdout)
	}
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
// threshold — at 80/s at the latest, where the ops ceiling of 70/s breaks
// whatever the machine (a machine crushed by parallel tests may break
// earlier, on latency: then the report must still be consistent); the
// capacity is the level before, the operating point 80% of it, the curve
// has a point per level run, and load back at 20/s recovers within the
// bound.
func TestStressLadder(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo stack for about 20s")
	}
	t.Parallel()
	code, stdout, out := runYAML(t, ladder)
	st := out.Stress
	if st == nil || st.BreakingPoint == nil || len(st.Levels) == 0 {
		t.Fatalf("no breaking point (exit %d)\n%s", code, stdout)
	}
	if !codeIs(t, code, out, exitOK) || out.Verdict != runner.Passed {
		t.Fatalf("exit %d, verdict %s, want 0/passed (the recovery held)\n%s", code, out.Verdict, stdout)
	}
	broke := *st.BreakingPoint
	if broke > 80 || broke != st.Levels[len(st.Levels)-1].Level || len(st.Levels) != int(broke/20) {
		t.Fatalf("broke at %g after %d levels, want at 80/s at the latest, the last level run", broke, len(st.Levels))
	}
	for i, lv := range st.Levels {
		if want := 20 * float64(i+1); lv.Level != want || lv.Passed != (lv.Level < broke) || lv.RSSMax == nil {
			t.Errorf("level %d: %+v, want level %g, passed %v, RSS sampled", i, lv, want, lv.Level < broke)
		}
	}
	if broke == 20 {
		if st.Capacity != nil || st.OperatingPoint != nil {
			t.Fatalf("first level broke, yet capacity %v, operating point %+v", st.Capacity, st.OperatingPoint)
		}
	} else if op := st.OperatingPoint; st.Capacity == nil || *st.Capacity != broke-20 || op == nil || op.Level != 0.8*(broke-20) {
		t.Fatalf("capacity %v, operating point %+v, want %g and 80%% of it", st.Capacity, op, broke-20)
	}
	if broke == 80 {
		for _, lv := range st.Levels {
			if lv.OpsPerS < lv.Level*0.8 || lv.OpsPerS > lv.Level*1.2 {
				t.Errorf("level %g measured %.1f ops/s", lv.Level, lv.OpsPerS)
			}
		}
		if len(st.BrokenBy) != 1 || !strings.HasPrefix(st.BrokenBy[0], "ops") {
			t.Errorf("broken by %v, want the ops ceiling alone", st.BrokenBy)
		}
		if op := st.OperatingPoint; *op.MeasuredAt != 40 || op.P95MS == nil {
			t.Errorf("operating point %+v, want measured at 40", op)
		}
	} else {
		t.Logf("the machine broke at %g/s: %v", broke, st.BrokenBy)
	}
	if out.Recovery == nil || !out.Recovery.Passed || out.Recovery.MeasuredS == nil {
		t.Fatalf("recovery after overload: %+v", out.Recovery)
	}
	for _, want := range []string{fmt.Sprintf("Breaking point: %g", broke), "After overload, back at 20"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
}

// shortStress shortens a bundled stress experiment: 3 s levels (1 s
// settle), recovery judged within 5 s (hold 2 s, window 1 s). The levels,
// thresholds and verify are the file's own.
var shortStress = []string{
	"--set", "stress.every=3s", "--set", "stress.settle=1s",
	"--set", "recovery.within=5s", "--set", "recovery.hold=2s", "--set", "recovery.window=1s",
}

// TestStressBreakingPointShort runs experiments/stress-breaking-point.yaml
// shortened (and stopped at 300 users): the levels run in order from 100
// by 100; capacity and breaking point agree with the levels' verdicts;
// nothing acknowledged is lost. Where the demo breaks depends on the
// machine, so only the consistency of the report is asserted here; the
// full run's figures are in the README.
func TestStressBreakingPointShort(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo stack for about 20s")
	}
	// not parallel: its load would disturb the other end-to-end tests
	code, stdout, out := runFile(t, "../../experiments/stress-breaking-point.yaml",
		append([]string{"--set", "stress.to=300"}, shortStress...)...)
	st := out.Stress
	if st == nil || len(st.Levels) == 0 || code == exitInvalid || code == exitInfra && out.Invalid == "" || out.Verdict != runner.Passed && out.Verdict != runner.Failed {
		t.Fatalf("exit %d, stress %+v\n%s", code, st, stdout)
	}
	for i, lv := range st.Levels {
		if lv.Level != 100*float64(i+1) || lv.Ops == 0 || len(lv.Checks) != 3 {
			t.Errorf("level %d: %+v", i, lv)
		}
		last := i == len(st.Levels)-1
		if !lv.Passed && !last {
			t.Errorf("level %g broke but stepping went on", lv.Level)
		}
	}
	last := st.Levels[len(st.Levels)-1]
	switch {
	case last.Passed && (st.BreakingPoint != nil || st.Capacity == nil || *st.Capacity != 300):
		t.Errorf("every level held: capacity %v, breaking point %v", st.Capacity, st.BreakingPoint)
	case !last.Passed && (st.BreakingPoint == nil || *st.BreakingPoint != last.Level || len(st.BrokenBy) == 0 || out.Recovery == nil):
		t.Errorf("broke at %g: breaking point %v by %v, recovery %+v", last.Level, st.BreakingPoint, st.BrokenBy, out.Recovery)
	}
	if len(out.Verify) != 1 || out.Verify[0].Lost != 0 || out.Verify[0].Acknowledged == 0 {
		t.Errorf("verify %+v", out.Verify)
	}
	if !strings.Contains(stdout, "Stress: VUs 100 → 300 by 100") {
		t.Errorf("no stress section:\n%s", stdout)
	}
}

// TestOverloadRecoveryShort runs experiments/overload-recovery.yaml
// shortened: 100/s holds; the 5000/s overload breaks a threshold on this
// machine (the full run's figures are in the README), and back at 100/s
// the service recovers within the (shortened: 15 s) bound: exit 0. A machine
// fast enough to serve 5000/s reports that level as its capacity and
// measures no recovery; the test says so rather than failing.
func TestOverloadRecoveryShort(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo stack for about 20s")
	}
	// not parallel: its load would disturb the other end-to-end tests
	// the bound is 15 s, not shortStress's 5 s: under -race the service
	// drains a 5000/s backlog several times slower
	// and the RSS bound is lifted: in a test binary the "service" process
	// holds every parallel test's stack
	code, stdout, out := runFile(t, "../../experiments/overload-recovery.yaml",
		append(append([]string{}, shortStress...), "--set", "recovery.within=15s",
			"--set", "thresholds.target_rss=max < 64GB")...)
	st := out.Stress
	if st != nil && len(st.Levels) == 1 && !st.Levels[0].Passed && st.Levels[0].GeneratorSaturated {
		t.Skipf("the machine is saturated: the generator itself was late at 100/s (%v)", st.BrokenBy)
	}
	if st == nil || len(st.Levels) != 2 || !st.Levels[0].Passed {
		t.Fatalf("exit %d, want two levels, 100/s holding: %+v\n%s", code, st, stdout)
	}
	if st.Levels[1].Passed {
		if st.Capacity == nil || *st.Capacity != 5000 || out.Recovery != nil {
			t.Fatalf("5000/s held: capacity %v, recovery %+v", st.Capacity, out.Recovery)
		}
		t.Logf("this machine served the 5000/s overload (p95 %.1fms): no recovery to measure", st.Levels[1].P95MS)
		return
	}
	if out.Recovery == nil || st.RecoverAt == nil || *st.RecoverAt != 100 {
		t.Fatalf("recovery after overload not measured: %+v", out.Recovery)
	}
	if !out.Recovery.Passed || !codeIs(t, code, out, exitOK) {
		t.Fatalf("exit %d, recovery %+v\n%s", code, out.Recovery, stdout)
	}
}
