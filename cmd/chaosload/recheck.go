package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/chaosload/chaosload/runner"
)

// The performance suite's regression check without --baseline: the suite's
// first run of an experiment tagged performance is the baseline the suite
// establishes; that experiment runs once more at the end of the suite and
// is compared with it, named "this suite's baseline run NAME (DIR/NAME.json)"
// in the reports. It shows that p95, throughput and recovery reproduce
// within --max-regression on this machine, not that nothing regressed
// since an earlier version: --baseline DIR (an earlier --out) checks that,
// and takes precedence.

// performanceTag is the tag of the experiments that establish a baseline.
const performanceTag = "performance"

// suiteBaseline returns the run the suite's regression check compares a
// second run with: nil unless readiness is written (--out), no --baseline
// is given, --suite names performance (or all) and a run so far is tagged
// performance.
func suiteBaseline(outs *outputs, sel *suite) *runner.Outcome {
	if outs.dir == "" || outs.baseline != nil || outs.baselineDir != "" || !sel.named ||
		(len(sel.tags) > 0 && !slices.Contains(sel.tags, performanceTag)) {
		return nil
	}
	for _, o := range outs.done {
		if slices.Contains(o.Tags, performanceTag) {
			return o
		}
	}
	return nil
}

// recheckBaseline runs the suite's baseline experiment again and compares
// it with its first run (outputs.compare), returning the run's exit code;
// exitOK with nothing run when the suite has no such baseline.
func (a *app) recheckBaseline(ctx context.Context, sets []string, outs *outputs, sel *suite) int {
	base := suiteBaseline(outs, sel)
	if base == nil {
		return exitOK
	}
	outs.suiteBase = base
	outs.suiteBaseName = fmt.Sprintf("this suite's baseline run %s (%s)", base.Experiment,
		filepath.Join(outs.dir, safeName(base.Experiment)+".json"))
	outs.notes = append(outs.notes, fmt.Sprintf("no --baseline: %s ran a second time at the end of the suite and was compared with "+
		"its first run, %s; this shows its p95, throughput and recovery reproduce within --max-regression here, "+
		"not the absence of a regression since an earlier version (--baseline DIR, an earlier --out, checks that)",
		base.Experiment, outs.suiteBaseName))
	return a.runOne(ctx, base.File, sets, outs, &suite{quick: sel.quick})
}
