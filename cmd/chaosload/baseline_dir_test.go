package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaosload/chaosload/report"
	"github.com/chaosload/chaosload/runner"
	"github.com/spf13/viper"
)

// phaseRun is a passed run of experiment name with one baseline phase of
// the given p95.
func phaseRun(name string, p95 float64) *runner.Outcome {
	without := p95
	return &runner.Outcome{SchemaVersion: runner.SchemaVersion, Experiment: name, Verdict: runner.Passed, Passed: true,
		Phases: []runner.Phase{{Name: "baseline", EndS: 10, Ops: 1000, OpsPerS: 100, OKPerS: 100, P95MS: p95, P95WithoutLatenessMS: &without}}}
}

// TestBaselineDirectory: --baseline DIR compares each experiment with its
// own NAME.json there (the --out of an earlier suite run): x regressed from
// 10ms to 20ms and fails; y has no saved result and is only warned about.
func TestBaselineDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := report.WriteFile(filepath.Join(dir, "x.json"), phaseRun("x", 10), report.JSON); err != nil {
		t.Fatal(err)
	}
	v := viper.New()
	v.Set("baseline", dir)
	v.Set("max-regression", "10%")
	o, err := newOutputs(v, io.Discard, 2)
	if err != nil {
		t.Fatal(err)
	}
	x, y := phaseRun("x", 20), phaseRun("y", 20)
	o.compare(x)
	o.compare(y)
	if x.Verdict != runner.Failed || x.Comparison == nil || x.Comparison.Baseline != filepath.Join(dir, "x.json") {
		t.Errorf("x: verdict %s, comparison %+v; want failed against %s", x.Verdict, x.Comparison, filepath.Join(dir, "x.json"))
	}
	if y.Verdict != runner.Passed || y.Comparison != nil || len(y.Warnings) != 1 || !strings.Contains(y.Warnings[0], "no comparison") {
		t.Errorf("y: verdict %s, comparison %+v, warnings %q; want passed, none, a warning", y.Verdict, y.Comparison, y.Warnings)
	}
	if _, err := os.Stat(filepath.Join(dir, "y.json")); err == nil {
		t.Error("the baseline directory was written to")
	}
}
