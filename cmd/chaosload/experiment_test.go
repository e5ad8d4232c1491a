package main

import (
	"strings"
	"testing"

	"github.com/chaosload/chaosload/runner"
)

// dbExhaustionFaults shortens experiments/db-exhaustion.yaml's faults to
// 10 s .. 16 s of the 30 s of load shortCatalogue leaves (the rate, the
// faults, the error thresholds and the degradation bounds are the file's
// own).
var dbExhaustionFaults = []string{
	"faults.pg-connections-exhausted.startTime=10s",
	"faults.pg-connections-exhausted.duration=6s",
	"faults.drop-app-connections.startTime=10s",
}

func runDBExhaustion(t *testing.T, mode string) e2eRun {
	t.Helper()
	return runShortened(t, "db-exhaustion", dbExhaustionFaults, mode)
}

// TestDBExhaustionGracefulPasses: the bundled experiment passes against the
// graceful demo, and the fault really deprived the service of PostgreSQL
// (its orders were shed with 503s while the fault held).
func TestDBExhaustionGracefulPasses(t *testing.T) {
	r := runDBExhaustion(t, "graceful")
	r.expect(t, exitOK, runner.Passed)
	out := r.out
	if out.Totals.ByClass["http_503"] == 0 {
		t.Fatalf("no 503 at all: the fault did not deprive the service of connections\n%s", r.stdout)
	}
	if out.Recovery == nil || out.Recovery.MeasuredS == nil {
		t.Fatalf("recovery not measured: %+v", out.Recovery)
	}
	if v := out.Verify; len(v) != 1 || v[0].Acknowledged == 0 || v[0].Lost != 0 {
		t.Fatalf("verify %+v", out.Verify)
	}
	if !strings.Contains(r.stdout, "Verdict: PASSED") {
		t.Fatalf("summary lacks the verdict:\n%s", r.stdout)
	}
}

// TestDBExhaustionNaiveFails: the same experiment fails against the naive
// demo (exit 1), naming the failing check: 500s during the fault.
func TestDBExhaustionNaiveFails(t *testing.T) {
	r := runDBExhaustion(t, "naive")
	r.expect(t, exitFailed, runner.Failed)
	var named bool
	for _, c := range r.out.Checks {
		if c.Phase == "fault" && c.Name == "errors{class:http_5xx}: count == 0" && !c.Passed {
			named = true
		}
	}
	if !named || !strings.Contains(r.stdout, "fault #1 errors{class:http_5xx}: count == 0") {
		t.Fatalf("the 5xx check is not named as failed:\n%s", r.stdout)
	}
}
