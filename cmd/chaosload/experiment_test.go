package main

import (
	"strings"
	"testing"

	"github.com/chaosload/chaosload/runner"
)

// dbExhaustionFaults shortens experiments/db-exhaustion.yaml's faults to
// 10 s .. 16 s of the 30 s of load shortCatalogue leaves, at 100 arrivals/s
// like the other catalogue files instead of the file's 200 (400 requests/s
// with the whole suite beside it starved a 2-core machine: the graceful
// demo shed 16% of the baseline with 503s). The faults, the error
// thresholds and the degradation bounds are the file's own; make demo runs
// the file at its full rate.
var dbExhaustionFaults = []string{
	"scenarios.shoppers.rate=100",
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
// demo (exit 1), naming the failing check: more than 60% errors during the
// fault. (Whether those errors are 500s or requests left hanging until the
// client gives up depends on how fast the host answers; that more than
// 60% of requests fail does not.)
func TestDBExhaustionNaiveFails(t *testing.T) {
	r := runDBExhaustion(t, "naive")
	r.expect(t, exitFailed, runner.Failed)
	var named bool
	for _, c := range r.out.Checks {
		if c.Phase == "fault" && c.Name == "errors: rate < 60%" && !c.Passed {
			named = true
		}
	}
	if !named || !strings.Contains(r.stdout, "fault #1 errors: rate < 60%") {
		t.Fatalf("the fault phase's error check is not named as failed:\n%s", r.stdout)
	}
	t.Logf("errors by class: %v", r.out.Totals.ByClass)
}
