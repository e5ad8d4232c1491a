package main

import (
	"strings"
	"testing"

	"github.com/chaosload/chaosload/runner"
)

// dbExhaustionFaults shortens experiments/db-exhaustion.yaml's faults to
// 8 s .. 13 s of the 25 s of load shortCatalogue leaves, at 100 arrivals/s
// like the other catalogue files instead of the file's 200 (400 requests/s
// with the whole suite beside it starved a 2-core machine: the graceful
// demo shed 16% of the baseline with 503s). The faults, the error
// thresholds and the degradation bounds are the file's own; make demo runs
// the file at its full rate.
var dbExhaustionFaults = []string{
	"scenarios.shoppers.rate=100",
	"faults.pg-connections-exhausted.startTime=8s",
	"faults.pg-connections-exhausted.duration=5s",
	"faults.drop-app-connections.startTime=8s",
}

func runDBExhaustion(t *testing.T, mode string, more ...string) e2eRun {
	t.Helper()
	return runShortened(t, "db-exhaustion", append(append([]string(nil), dbExhaustionFaults...), more...), mode)
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
// demo (exit 1) on the file's graceful-degradation checks of the fault
// phase, named in the summary. Which of them a run breaks depends on how
// fast the host answers (500s from a full server when it is quick; on a
// starved host requests also hang past 2 s, or more than 60% fail): the
// outcome tested is that the degradation failed, never the fault's effect
// or anything outside the fault.
//
// It runs at 50 arrivals/s, half the graceful test's rate: the naive demo
// bounds nothing (no timeouts, no shedding), so on a host loaded by a second
// test suite it queued 200 requests/s into seconds of latency before the
// fault (baseline p95 2.06 s); at 50/s it has headroom before the fault,
// and every request that needs PostgreSQL during the exhaustion still fails
// with a 500.
func TestDBExhaustionNaiveFails(t *testing.T) {
	r := runDBExhaustion(t, "naive", "scenarios.shoppers.rate=50")
	r.expect(t, exitFailed, runner.Failed)
	degradation := map[string]bool{
		"errors: rate < 60%": true, "latency: p(99) < 2s": true, "errors{class:http_5xx}: count == 0": true,
	}
	var failed []string
	for _, c := range r.out.Checks {
		if !c.Failed() {
			continue
		}
		if c.Phase != "fault" || !degradation[c.Name] {
			t.Errorf("check %s %q failed: only the fault phase's degradation may\n%s", c.Phase, c.Name, r.stdout)
		}
		if !strings.Contains(r.stdout, "fault #1 "+c.Name) {
			t.Errorf("the summary does not name %q as failed", c.Name)
		}
		failed = append(failed, c.Name)
	}
	if len(failed) == 0 {
		t.Fatalf("no degradation check failed:\n%s", r.stdout)
	}
	t.Logf("failed: %v; errors by class: %v", failed, r.out.Totals.ByClass)
}
