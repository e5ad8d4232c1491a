package main

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaosload/chaosload/runner"
)

// runYAML writes an experiment to a temporary file, runs it with extra
// arguments and returns the exit code, stdout and the saved Outcome.
func runYAML(t *testing.T, yaml string, extra ...string) (int, string, *runner.Outcome) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "exp.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return runFile(t, file, extra...)
}

// runFile runs one experiment file and returns the exit code, stdout and
// the saved Outcome.
func runFile(t *testing.T, file string, extra ...string) (int, string, *runner.Outcome) {
	t.Helper()
	result := filepath.Join(t.TempDir(), "result.json")
	args := append([]string{"run", file, "--quiet", "--json", result}, extra...)
	code, stdout, stderr := invoke(t, context.Background(), args...)
	data, err := os.ReadFile(result)
	if err != nil {
		t.Fatalf("exit %d, no result file: %v\n%s\n%s", code, err, stdout, stderr)
	}
	var out runner.Outcome
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return code, stdout, &out
}

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
	if code != exitFailed || out.Verdict != runner.Failed {
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
	if code != exitOK || len(out.Verify) != 1 || out.Verify[0].Lost != 0 || out.Verify[0].Verified == 0 {
		t.Fatalf("exit %d, verify %+v\n%s", code, out.Verify, stdout)
	}
}

// monitored runs light load on the graceful demo with the stack's
// processes monitored and four probes: the service's health, Redis by TCP,
// PostgreSQL by SQL, and a port nothing listens on.
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
  closed: {tcp: "CLOSED", every: 250ms, timeout: 200ms}
thresholds:
  errors: ["rate < 1%"]
  target_rss: ["max < 4GB", "max < 1MB"]
  target_cpu: ["max < 10000"]
  target_fds: ["max > 5"]
  target_threads: ["min > 1"]
  "probe_ok{probe:health}": ["rate > 90%"]
  "probe_ok{probe:db}": ["rate > 90%"]
  "probe_ok{probe:redis}": ["rate > 90%"]
  "probe_ok{probe:closed}": ["rate > 90%"]
  "probe_latency{probe:health}": ["p(95) < 1s"]
`

// TestMonitorAndProbes: the demo stack's processes are sampled (RSS, CPU,
// fds, threads in the intervals and as thresholds); a bound no real
// process meets (RSS < 1 MB) fails, and so does a probe of a closed port,
// while the health, SQL and TCP probes of the live stack succeed.
func TestMonitorAndProbes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo stack")
	}
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	_ = ln.Close() // a port nothing listens on
	code, stdout, out := runYAML(t, strings.Replace(monitored, "CLOSED", closed, 1))
	if code != exitFailed {
		t.Fatalf("exit %d, want 1\n%s", code, stdout)
	}
	want := map[string]bool{
		"target_rss: max < 4GB": true, "target_rss: max < 1MB": false, "target_cpu: max < 10000": true,
		"target_fds: max > 5": true, "target_threads: min > 1": true,
		"probe_ok{probe:health}: rate > 90%": true, "probe_ok{probe:db}: rate > 90%": true,
		"probe_ok{probe:redis}: rate > 90%": true, "probe_ok{probe:closed}: rate > 90%": false,
		"probe_latency{probe:health}: p(95) < 1s": true, "errors: rate < 1%": true,
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
		if p.Attempts < 10 {
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
thresholds:
  ops: ["rate < 70/s"]
  latency: ["p(95) < 2s"]
  target_rss: ["max < 8GB"]
recovery: {within: 3s, hold: 2s, window: 1s}
`

// TestStressLadder: the levels run in order until the first that breaks a
// threshold (80/s: the ops ceiling of 70/s), capacity is the level before
// (60), the operating point 80% of it (48, measured at 40), the curve has
// a point per level run, and load back at 20/s recovers within the bound.
func TestStressLadder(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo stack for about 20s")
	}
	t.Parallel()
	code, stdout, out := runYAML(t, ladder)
	st := out.Stress
	if st == nil {
		t.Fatalf("no stress result (exit %d)\n%s", code, stdout)
	}
	if code != exitOK || out.Verdict != runner.Passed {
		t.Fatalf("exit %d, verdict %s, want 0/passed (the recovery held)\n%s", code, out.Verdict, stdout)
	}
	if st.Capacity == nil || *st.Capacity != 60 || st.BreakingPoint == nil || *st.BreakingPoint != 80 {
		t.Fatalf("capacity %v, breaking point %v, want 60 and 80\n%s", st.Capacity, st.BreakingPoint, stdout)
	}
	if len(st.Levels) != 4 || len(st.BrokenBy) != 1 || !strings.HasPrefix(st.BrokenBy[0], "ops") {
		t.Fatalf("levels %d, broken by %v", len(st.Levels), st.BrokenBy)
	}
	for i, lv := range st.Levels {
		want := 20 * float64(i+1)
		if lv.Level != want || lv.OpsPerS < want*0.8 || lv.OpsPerS > want*1.2 || lv.RSSMax == nil {
			t.Errorf("level %d: %+v, want %g ops/s measured", i, lv, want)
		}
	}
	op := st.OperatingPoint
	if op == nil || op.Level != 48 || op.MeasuredAt == nil || *op.MeasuredAt != 40 || op.P95MS == nil {
		t.Fatalf("operating point %+v", op)
	}
	if out.Recovery == nil || !out.Recovery.Passed || out.Recovery.MeasuredS == nil {
		t.Fatalf("recovery after overload: %+v", out.Recovery)
	}
	for _, want := range []string{"Capacity: 60", "Breaking point: 80", "Operating point"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
}
