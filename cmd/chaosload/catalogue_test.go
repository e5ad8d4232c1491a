package main

import (
	"strings"
	"testing"

	"github.com/chaosload/chaosload/runner"
)

// The bundled fault-catalogue experiments, each shortened with --set
// (durations only: the rate, the faults and every threshold are the file's
// own) to 40 s of load: faults from 10 s to 22 s, recovery judged within
// 10 s (hold 5 s, window 2 s). They run in parallel.
var shortRecovery = []string{
	"--set", "scenarios.shoppers.duration=40s",
	"--set", "recovery.within=10s",
	"--set", "recovery.hold=5s",
	"--set", "recovery.window=2s",
}

// catalogue lists each experiment with the --set that shortens its faults.
var catalogue = []struct {
	file   string
	faults []string
}{
	{"cascading-failure", []string{
		"faults.pg-slow.startTime=10s", "faults.pg-slow.duration=12s",
		"faults.redis-down.startTime=14s", "faults.redis-down.duration=8s"}},
	{"redis-latency", []string{"faults.redis-slow.startTime=10s", "faults.redis-slow.duration=12s"}},
	{"packet-loss", []string{"faults.pg-loss.startTime=10s", "faults.pg-loss.duration=12s"}},
	{"resets", []string{"faults.pg-reset-peer.startTime=10s", "faults.pg-reset-peer.duration=12s",
		"faults.pg-reset.startTime=10s", "faults.redis-reset.startTime=14s"}},
}

// runShortened runs one catalogue experiment against the demo in mode and
// returns the exit code, the summary and the JSON outcome.
func runShortened(t *testing.T, file string, faults []string, mode string) (int, string, *runner.Outcome) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the demo stack for about 45s")
	}
	args := append([]string{"--set", "stack.mode=" + mode}, shortRecovery...)
	for _, f := range faults {
		args = append(args, "--set", f)
	}
	return runFile(t, "../../experiments/"+file+".yaml", args...)
}

// TestCatalogueExperimentsPassAgainstGraceful: every catalogue experiment
// passes against the graceful demo, each of its faults was applied and
// reverted (times and revert duration in the JSON faults[]), and the
// cascading failure really degraded the service (503s while it held).
func TestCatalogueExperimentsPassAgainstGraceful(t *testing.T) {
	for _, x := range catalogue {
		t.Run(x.file, func(t *testing.T) {
			t.Parallel()
			code, stdout, out := runShortened(t, x.file, x.faults, "graceful")
			if !codeIs(t, code, out, exitOK) || out.Verdict != runner.Passed {
				t.Fatalf("exit %d, verdict %s, want 0/passed\n%s", code, out.Verdict, stdout)
			}
			if len(out.Faults) == 0 {
				t.Fatal("no faults[] in the JSON outcome")
			}
			for _, f := range out.Faults {
				if f.AppliedS == nil || f.RevertedS == nil || f.Error != "" {
					t.Errorf("fault %s: applied %v, reverted %v, error %q", f.Name, f.AppliedS, f.RevertedS, f.Error)
				}
			}
			if x.file == "cascading-failure" && out.Totals.ByClass["http_503"] == 0 {
				t.Errorf("no 503 at all: the cascade did not degrade the service\n%s", stdout)
			}
		})
	}
}

// TestCascadingFailureNaiveFails: the cascading failure fails against the
// naive demo (exit 1), naming 500s during the faults.
func TestCascadingFailureNaiveFails(t *testing.T) {
	t.Parallel()
	x := catalogue[0]
	code, stdout, out := runShortened(t, x.file, x.faults, "naive")
	if !codeIs(t, code, out, exitFailed) || out.Verdict != runner.Failed {
		t.Fatalf("exit %d, verdict %s, want 1/failed\n%s", code, out.Verdict, stdout)
	}
	if !strings.Contains(stdout, "fault #1 errors{class:http_5xx}: count == 0") {
		t.Fatalf("the 5xx check is not named:\n%s", stdout)
	}
	for _, c := range out.Checks {
		if c.Phase == "fault" && c.Name == "errors{class:http_5xx}: count == 0" && c.Passed {
			t.Errorf("the 5xx check passed against naive:\n%s", stdout)
		}
	}
}
