package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/chaosload/chaosload/config"
)

// Suites: `chaosload run DIR` runs every *.yaml and *.yml file of DIR (not
// its subdirectories) in name order; `--suite load,stress` keeps the
// experiments whose tags: include any of the names (`all` keeps every one);
// `--quick` scales the timeline by config.QuickFactor (Experiment.Quick). The exit
// code is the worst of the experiments' (see worse); the reports combine as
// --junit (one testsuite per experiment), --markdown (one document) and
// --out DIR (a file per experiment and one junit.xml); --json and --html
// take a single experiment.

// expandFiles replaces each directory among args by its experiment files.
func expandFiles(args []string) ([]string, error) {
	var files []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil || !st.IsDir() {
			files = append(files, a) // a file, or a missing one: loading says what is wrong
			continue
		}
		var found []string
		for _, pat := range []string{"*.yaml", "*.yml"} {
			m, err := filepath.Glob(filepath.Join(a, pat))
			if err != nil {
				return nil, err
			}
			found = append(found, m...)
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s: no experiment files (*.yaml, *.yml) in this directory", a)
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, nil
}

// parseSuite splits --suite into tag names; nil selects every experiment.
func parseSuite(s string) []string {
	var tags []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	if slices.Contains(tags, "all") {
		return nil
	}
	return tags
}

// selected reports whether exp is in the suite of tags.
func selected(exp *config.Experiment, tags []string) bool {
	if len(tags) == 0 {
		return true
	}
	for _, t := range exp.Tags {
		if slices.Contains(tags, t) {
			return true
		}
	}
	return false
}

// suiteSummary prints one line per experiment run and the combined
// verdict, when more than one experiment ran, and the readiness verdict
// when --out wrote one.
func suiteSummary(a *app, outs *outputs, skipped []string, code int) {
	defer readinessLine(a, outs)
	if len(outs.done)+len(skipped) < 2 {
		return
	}
	fmt.Fprintf(a.stdout, "\nSuite: %d experiments\n", len(outs.done))
	for _, o := range outs.done {
		fmt.Fprintf(a.stdout, "  %-12s %s (%s)\n", strings.ToUpper(string(o.Verdict)), o.Experiment, o.File)
	}
	for _, s := range skipped {
		fmt.Fprintf(a.stdout, "  %-12s %s\n", "not selected", s)
	}
	fmt.Fprintf(a.stdout, "Suite exit code: %d (the worst of the experiments)\n", code)
}

// suite is the selection of a run over several experiments.
type suite struct {
	tags []string
	// named is set when --suite was given (all included).
	named   bool
	quick   bool
	skipped []string
}

// admit returns the experiment to run, quickened when asked (a copy:
// config.Experiment.Quick), or nil when exp is not in the suite; err is a
// file --quick made invalid.
func (s *suite) admit(exp *config.Experiment) (*config.Experiment, error) {
	if !selected(exp, s.tags) {
		s.skipped = append(s.skipped, fmt.Sprintf("%s (%s): tags [%s]", exp.Name, exp.File, strings.Join(exp.Tags, ", ")))
		return nil, nil
	}
	if !s.quick {
		return exp, nil
	}
	q, err := exp.Quick(config.QuickFactor)
	if err != nil {
		return nil, fmt.Errorf("--quick (durations × %g) leaves %s invalid; run it in full or shorten it with --set:\n%w",
			config.QuickFactor, exp.File, err)
	}
	return q, nil
}

// readinessLine prints the readiness verdict when --out wrote one.
func readinessLine(a *app, outs *outputs) {
	if r := outs.readiness; r != nil {
		fmt.Fprintf(a.stdout, "Readiness: %s (%s)\n", strings.ToUpper(string(r.Verdict)), filepath.Join(outs.dir, "readiness.md"))
	}
}
