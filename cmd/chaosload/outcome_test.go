package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaosload/chaosload/runner"
)

// Running an experiment through the built binary and reading what it saved.

// runYAML writes an experiment to a temporary file and runs it with extra
// arguments.
func runYAML(t *testing.T, yaml string, extra ...string) e2eRun {
	t.Helper()
	file := filepath.Join(t.TempDir(), "exp.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return runExperiment(t, nil, file, extra...)
}

// runFile runs one experiment file with extra arguments.
func runFile(t *testing.T, file string, extra ...string) e2eRun {
	t.Helper()
	return runExperiment(t, nil, file, extra...)
}

// expectJudged fails unless each named threshold was judged in the
// baseline, on data, and passed (a check whose metric saw nothing would not
// count).
func expectJudged(t *testing.T, out *runner.Outcome, stdout string, names ...string) {
	t.Helper()
	judged := map[string]bool{}
	for _, c := range out.Checks {
		if c.Phase == "baseline" && c.Passed {
			key, _, _ := strings.Cut(c.Name, ": ") // "key: expression"
			judged[key] = true
		}
	}
	for _, name := range names {
		if !judged[name] {
			t.Errorf("%s was not judged and passed in the baseline:\n%s", name, stdout)
		}
	}
}
