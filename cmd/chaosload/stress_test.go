package main

import (
	"context"
	"encoding/json"
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
