package main

import (
	"strings"
	"testing"

	"github.com/chaosload/chaosload/runner"
)

// shortSerialization shortens experiments/pg-serialization-errors.yaml with
// --set (durations only: the rate, the 30 % probability, the match and
// every threshold are the file's own) to 32 s of load: the fault from 8 s
// to 20 s, recovery judged within 5 s (hold 5 s, window 2 s).
var shortSerialization = []string{
	"--set", "scenarios.shoppers.duration=32s",
	"--set", "faults.order-serialization-failures.startTime=8s",
	"--set", "faults.order-serialization-failures.duration=12s",
	"--set", "recovery.within=5s",
	"--set", "recovery.hold=5s",
	"--set", "recovery.window=2s",
}

// runSerialization runs the shortened experiment against the demo in mode
// and returns the exit code, the summary and the JSON outcome.
func runSerialization(t *testing.T, mode string) (int, string, *runner.Outcome) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the demo stack for about 35s")
	}
	return runFile(t, "../../experiments/pg-serialization-errors.yaml", append([]string{"--set", "stack.mode=" + mode}, shortSerialization...)...)
}

// TestPGSerializationErrors: the graceful demo retries the order
// transactions whose COMMIT the pg-error fault answered with 40001, so the
// experiment passes (exit 0) with errors injected (faults[].injected > 0);
// the naive demo surfaces them as 500s and fails (exit 1), naming the
// fault-phase error checks.
func TestPGSerializationErrors(t *testing.T) {
	t.Run("graceful", func(t *testing.T) {
		t.Parallel()
		code, stdout, out := runSerialization(t, "graceful")
		if !codeIs(t, code, out, exitOK) || out.Verdict != runner.Passed {
			t.Fatalf("exit %d, verdict %s, want 0/passed\n%s", code, out.Verdict, stdout)
		}
		expectInjected(t, out, stdout)
	})
	t.Run("naive", func(t *testing.T) {
		t.Parallel()
		code, stdout, out := runSerialization(t, "naive")
		if !codeIs(t, code, out, exitFailed) || out.Verdict != runner.Failed {
			t.Fatalf("exit %d, verdict %s, want 1/failed\n%s", code, out.Verdict, stdout)
		}
		expectInjected(t, out, stdout)
		for _, name := range []string{"errors{class:http_5xx}: count == 0", "errors: rate < 1%"} {
			if !strings.Contains(stdout, "fault #1 "+name) {
				t.Errorf("the check %q is not named:\n%s", name, stdout)
			}
			for _, c := range out.Checks {
				if c.Phase == "fault" && c.Name == name && c.Passed {
					t.Errorf("fault check %q passed against naive (%s)", name, c.Observed)
				}
			}
		}
		// Each injected error is one 500 (class http_5xx; a 503 has its
		// own class): nothing retries them, nothing else fails.
		if got, injected := out.Totals.ByClass["http_5xx"], faultInjected(out); got == 0 || got > injected || got < injected*9/10 {
			t.Errorf("naive: %d 5xx for %d injected errors, want about one each: %v", got, injected, out.Totals.ByClass)
		}
	})
}

// faultInjected is the injected count of the pg-error fault, 0 when absent.
func faultInjected(out *runner.Outcome) int64 {
	for _, f := range out.Faults {
		if f.Name == "order-serialization-failures" {
			return f.Injected
		}
	}
	return 0
}

// expectInjected checks that the JSON faults[] entry of the pg-error fault
// counts the errors it injected.
func expectInjected(t *testing.T, out *runner.Outcome, stdout string) {
	t.Helper()
	for _, f := range out.Faults {
		if f.Name == "order-serialization-failures" {
			if f.Injected == 0 || f.Error != "" {
				t.Errorf("faults[%s]: injected %d, error %q, want injected > 0", f.Name, f.Injected, f.Error)
			}
			t.Logf("faults[%s]: %d errors injected; totals %v", f.Name, f.Injected, out.Totals.ByClass)
			return
		}
	}
	t.Errorf("no faults[] entry for order-serialization-failures\n%s", stdout)
}
