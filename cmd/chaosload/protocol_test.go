package main

import (
	"strings"
	"testing"

	"github.com/chaosload/chaosload/runner"
)

// serializationFaults shortens experiments/pg-serialization-errors.yaml's
// fault to 8 s .. 13 s of the 25 s of load shortCatalogue leaves: the rate,
// the 30 % probability, the match and the error thresholds are the file's
// own.
var serializationFaults = []string{
	"faults.order-serialization-failures.startTime=8s",
	"faults.order-serialization-failures.duration=5s",
}

// TestPGSerializationErrors: the graceful demo retries the order
// transactions whose COMMIT the pg-error fault answered with 40001, so the
// experiment passes (exit 0) with errors injected (faults[].injected > 0);
// the naive demo surfaces them as 500s and fails (exit 1), naming the
// fault-phase error checks.
func TestPGSerializationErrors(t *testing.T) {
	t.Run("graceful", func(t *testing.T) {
		r := runShortened(t, "pg-serialization-errors", serializationFaults, "graceful")
		r.expect(t, exitOK, runner.Passed)
		expectInjected(t, r.out, r.stdout)
	})
	t.Run("naive", func(t *testing.T) {
		r := runShortened(t, "pg-serialization-errors", serializationFaults, "naive")
		r.expect(t, exitFailed, runner.Failed)
		out, stdout := r.out, r.stdout
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
