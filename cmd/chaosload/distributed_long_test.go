//go:build longtests

package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaosload/chaosload/runner"
)

// The long end-to-end tests (make test-long): each runs the demo stack
// more than once and adds a minute or more to the suite, so make test
// leaves them out.

// TestDistributedDemoSameChecks: the demo experiment, db-exhaustion
// shortened as TestDBExhaustionGracefulPasses runs it (25 s of load at 100
// arrivals/s), run in one process and with --workers 3 as local worker
// processes: each gives one verdict, passed, with the same checks in the
// same phases and the same results, and the whole schedule's operations.
func TestDistributedDemoSameChecks(t *testing.T) {
	const file = "../../experiments/db-exhaustion.yaml"
	args := append([]string{"--set", "stack.mode=graceful"}, shortCatalogue...)
	for _, f := range dbExhaustionFaults {
		args = append(args, "--set", f)
	}
	single := runExperiment(t, nil, file, args...)
	single.expect(t, exitOK, runner.Passed)

	result := filepath.Join(t.TempDir(), "result.json")
	d := &distributedRun{file: file, result: result}
	d.coord = startChaosload(t, nil, append([]string{"run", file, "--workers", "3", "--quiet", "--json", result}, args...)...)
	line := d.coord.waitLine(t, "coordinator: waiting for")
	d.url = line[strings.Index(line, "http://"):]
	for i := range 3 {
		startChaosload(t, nil, append([]string{"worker", file, "--coordinator", d.url, "--index", fmt.Sprint(i)}, args...)...)
	}
	dist := d.end(t)
	dist.expect(t, exitOK, runner.Passed)
	checks := func(o *runner.Outcome) []string {
		var out []string
		for _, c := range o.Checks {
			out = append(out, fmt.Sprintf("%s#%d %s passed=%t", c.Phase, c.Episode, c.Name, c.Passed))
		}
		return out
	}
	if a, b := checks(single.out), checks(dist.out); strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Fatalf("checks differ:\none process:\n%s\n3 workers:\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
	if dist.out.Workers != 3 || dist.out.Totals.Ops != single.out.Totals.Ops {
		t.Fatalf("3 workers made %d operations (workers %d), one process %d", dist.out.Totals.Ops, dist.out.Workers, single.out.Totals.Ops)
	}
	t.Logf("%d checks alike, %d operations each", len(single.out.Checks), single.out.Totals.Ops)
}
