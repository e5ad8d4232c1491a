package main

import (
	"strings"
	"testing"

	"github.com/chaosload/chaosload/runner"
)

// shortDBExhaustion shortens experiments/db-exhaustion.yaml so a test stays
// short: 40 s of load, the fault from 12 s to 20 s, recovery judged within
// 10 s (hold 5 s, window 2 s). The rate, the faults and every threshold are
// the file's own.
var shortDBExhaustion = []string{
	"--set", "scenarios.shoppers.duration=40s",
	"--set", "faults.pg-connections-exhausted.startTime=12s",
	"--set", "faults.pg-connections-exhausted.duration=8s",
	"--set", "faults.drop-app-connections.startTime=12s",
	"--set", "recovery.within=10s",
	"--set", "recovery.hold=5s",
	"--set", "recovery.window=2s",
}

func runDBExhaustion(t *testing.T, mode string) (int, string, *runner.Outcome) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the demo stack for about 45s")
	}
	return runFile(t, "../../experiments/db-exhaustion.yaml", append([]string{"--set", "stack.mode=" + mode}, shortDBExhaustion...)...)
}

// TestDBExhaustionGracefulPasses: the bundled experiment passes against the
// graceful demo, and the fault really deprived the service of PostgreSQL
// (its orders were shed with 503s while the fault held).
func TestDBExhaustionGracefulPasses(t *testing.T) {
	code, stdout, out := runDBExhaustion(t, "graceful")
	if !codeIs(t, code, out, exitOK) || out.Verdict != runner.Passed {
		t.Fatalf("exit %d, verdict %s, want 0/passed\n%s", code, out.Verdict, stdout)
	}
	if out.Totals.ByClass["http_503"] == 0 {
		t.Fatalf("no 503 at all: the fault did not deprive the service of connections\n%s", stdout)
	}
	if out.Recovery == nil || out.Recovery.MeasuredS == nil {
		t.Fatalf("recovery not measured: %+v", out.Recovery)
	}
	if v := out.Verify; len(v) != 1 || v[0].Acknowledged == 0 || v[0].Lost != 0 {
		t.Fatalf("verify %+v", out.Verify)
	}
	if !strings.Contains(stdout, "Verdict: PASSED") {
		t.Fatalf("summary lacks the verdict:\n%s", stdout)
	}
}

// TestDBExhaustionNaiveFails: the same experiment fails against the naive
// demo (exit 1), naming the failing check: 500s during the fault.
func TestDBExhaustionNaiveFails(t *testing.T) {
	code, stdout, out := runDBExhaustion(t, "naive")
	if !codeIs(t, code, out, exitFailed) || out.Verdict != runner.Failed {
		t.Fatalf("exit %d, verdict %s, want 1/failed\n%s", code, out.Verdict, stdout)
	}
	var named bool
	for _, c := range out.Checks {
		if c.Phase == "fault" && c.Name == "errors{class:http_5xx}: count == 0" && !c.Passed {
			named = true
		}
	}
	if !named || !strings.Contains(stdout, "fault #1 errors{class:http_5xx}: count == 0") {
		t.Fatalf("the 5xx check is not named as failed:\n%s", stdout)
	}
}
