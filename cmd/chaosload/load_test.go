package main

import (
	"testing"

	"github.com/chaosload/chaosload/runner"
)

// shortLoad shortens experiments/load-100-users.yaml (durations only): 15 s
// of load, the first 5 s the default warm-up. The 100 users, their flow, the new
// connection per visit and the error and connection-rate thresholds are
// the file's own; the latency bound (p(95) < 100ms) is lifted to 1 s, as
// for the other bundled experiments (see shortCatalogue): only a real
// defect fails it.
var shortLoad = []string{
	"--set", "scenarios.users.duration=15s",
	"--set", "thresholds.latency=p(95) < 1s",
}

// TestLoad100UsersPasses: the bundled 100-users experiment passes against
// the graceful demo: errors < 1%, 50+ new HTTP connections/s; each of those
// checks was judged, on data, in the baseline (a check whose metric saw
// nothing would not count), and the users' flow ran whole: orders were
// placed and read back by the extracted id.
func TestLoad100UsersPasses(t *testing.T) {
	r := runFile(t, "../../experiments/load-100-users.yaml", shortLoad...)
	checkFlowRan(t, r.out)
	r.expect(t, exitOK, runner.Passed)
	expectJudged(t, r.out, r.stdout, "latency", "errors", "conn_rate{protocol:http}")
}

// checkFlowRan fails unless the users' visits ran whole, each on a
// connection of its own, as the proxy in front of the service saw them:
// three requests (browse, order, check) per accepted connection, none
// shared between visits. The check step expects 200 for the order the
// order step's response named, so an unfilled ${vu.order} is an error.
func checkFlowRan(t *testing.T, out *runner.Outcome) {
	t.Helper()
	if len(out.Targets) != 1 {
		t.Fatalf("targets %+v, want the api proxy", out.Targets)
	}
	conns, ops := out.Targets[0].Accepted, out.Totals.Ops
	// Visits still open when the run ends may have sent fewer than three.
	if ops > 3*conns || ops < 3*conns-3*100 {
		t.Errorf("%d requests over %d connections accepted by the proxy, want 3 per connection", ops, conns)
	}
}
