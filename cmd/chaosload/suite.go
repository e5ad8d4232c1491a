package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/runner"
)

// Suites: `chaosload run DIR` runs every *.yaml and *.yml file of DIR (not
// its subdirectories) in name order; `--suite load,stress` keeps the
// experiments whose tags: include any of the names (`all` keeps every one);
// `--quick` scales every duration of the timeline by QuickFactor. The exit
// code is the worst of the experiments' (see worse); the reports combine as
// --junit (one testsuite per experiment), --markdown (one document) and
// --out DIR (a file per experiment and one junit.xml); --json and --html
// take a single experiment.

// QuickFactor is what --quick multiplies every duration of the timeline
// by: scenario durations, stages, start times and maxDuration; fault start
// times and durations; warm-up; recovery within, hold and window; stress
// every and settle. Each is floored at QuickFloor (never lengthened): a
// 120 s scenario runs 12 s, a 5 s window 0.5 s (two recorder intervals).
// The floor is low so that scaling keeps the file's proportions (the
// observation period after the last fault must cover within + hold +
// window): a higher floor would lengthen the short durations only.
const (
	QuickFactor = 0.1
	QuickFloor  = 500 * time.Millisecond
)

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

// quicken scales exp's timeline by QuickFactor (floored at QuickFloor) and
// validates the result.
func quicken(exp *config.Experiment) error {
	q := func(d *time.Duration) {
		if *d > 0 {
			*d = max(time.Duration(float64(*d)*QuickFactor), min(*d, QuickFloor))
		}
	}
	for i := range exp.Scenarios {
		s := &exp.Scenarios[i]
		q(&s.Duration)
		q(&s.StartTime)
		q(&s.MaxDuration)
		for j := range s.Stages {
			q(&s.Stages[j].Duration)
		}
		if s.GracefulStop != nil {
			g := *s.GracefulStop
			q(&g)
			s.GracefulStop = &g
		}
		for j := range s.Steps {
			if w := s.Steps[j].WS; w != nil {
				h := *w
				q(&h.Hold) // a connection's lifetime: unscaled, it outlasts the scenario
				s.Steps[j].WS = &h
			}
		}
	}
	for i := range exp.Faults {
		f := &exp.Faults[i]
		q(&f.StartTime)
		q(&f.Duration)
		if r := f.Recovery; r != nil {
			own := *r
			q(&own.Within)
			q(&own.Hold)
			q(&own.Window)
			f.Recovery = &own
		}
	}
	if exp.Warmup != nil {
		q(exp.Warmup)
	}
	q(&exp.Recovery.Within)
	q(&exp.Recovery.Hold)
	q(&exp.Recovery.Window)
	if s := exp.Stress; s != nil {
		q(&s.Every)
		q(&s.Settle)
	}
	if err := exp.Validate(); err != nil {
		return fmt.Errorf("--quick (durations × %g) leaves %s invalid; run it in full or shorten it with --set:\n%w",
			QuickFactor, exp.File, err)
	}
	return nil
}

// suiteSummary prints one line per experiment run and the combined
// verdict, when more than one experiment ran.
func suiteSummary(a *app, outs []*runner.Outcome, skipped []string, code int) {
	if len(outs)+len(skipped) < 2 {
		return
	}
	fmt.Fprintf(a.stdout, "\nSuite: %d experiments\n", len(outs))
	for _, o := range outs {
		fmt.Fprintf(a.stdout, "  %-12s %s (%s)\n", strings.ToUpper(string(o.Verdict)), o.Experiment, o.File)
	}
	for _, s := range skipped {
		fmt.Fprintf(a.stdout, "  %-12s %s\n", "not selected", s)
	}
	fmt.Fprintf(a.stdout, "Suite exit code: %d (the worst of the experiments)\n", code)
}

// suite is the selection of a run over several experiments.
type suite struct {
	tags    []string
	quick   bool
	skipped []string
}

// admit says whether exp runs in the suite, quickened when asked; err is
// a file --quick made invalid.
func (s *suite) admit(exp *config.Experiment) (bool, error) {
	if !selected(exp, s.tags) {
		s.skipped = append(s.skipped, fmt.Sprintf("%s (%s): tags [%s]", exp.Name, exp.File, strings.Join(exp.Tags, ", ")))
		return false, nil
	}
	if s.quick {
		return true, quicken(exp)
	}
	return true, nil
}

// plannedSpan is how long exp's load is planned to run: its scenarios', or
// for a stress run every level plus the recovery after overload (the run
// ends sooner when a level breaks early).
func plannedSpan(exp *config.Experiment) time.Duration {
	s := exp.Stress
	if s == nil {
		return load.Span(exp.Scenarios)
	}
	r := exp.Recovery
	return time.Duration(len(s.Levels()))*s.Every + r.Within + r.Hold + r.Window
}
