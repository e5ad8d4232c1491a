package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"

	"github.com/chaosload/chaosload/readiness"
	"github.com/chaosload/chaosload/report"
	"github.com/chaosload/chaosload/runner"
	"github.com/spf13/cobra"
	"github.com/spf13/viper"
)

// outputFlags adds the flags that choose what is written, shared by run and
// report.
func outputFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.String("json", "", "write the result as JSON (the versioned Outcome, docs/outcome.md) to this file")
	f.String("junit", "", "write JUnit XML to this file: a testsuite per experiment, a testcase per check")
	f.String("markdown", "", "write a Markdown summary to this file (also appended to $GITHUB_STEP_SUMMARY when set)")
	f.String("html", "", "write a self-contained HTML report with charts to this file")
	f.String("out", "", "write every format into this directory: NAME.json, NAME.html, NAME.md, junit.xml, and readiness.md and readiness.html judging every run against the criteria")
	f.String("criteria", "", "judge readiness (--out DIR/readiness.md, .html) against this criteria file instead of the bundled plan (chaosload criteria prints it)")
	f.String("baseline", "", "compare with this saved result (--json of an earlier run), or with each experiment's NAME.json in this directory (--out of an earlier run); a regression fails the run")
	f.String("max-regression", fmt.Sprintf("%g%%", report.DefaultMaxRegression*100),
		"how much worse than the baseline p95, throughput and recovery time may be (10% or 0.1)")
}

// outputs writes what a command produced: the summary on stdout and the
// files the flags ask for. After each experiment it writes that
// experiment's files and rewrites the ones that hold every experiment so far
// (JUnit, --markdown), so an interrupted run of several files still leaves
// complete reports of what ran.
type outputs struct {
	stdout io.Writer
	// json, html, markdown, junit are the files asked for by flag; dir is
	// --out.
	json, html, markdown, junit, dir string
	// stepSummary is $GITHUB_STEP_SUMMARY (appended to).
	stepSummary string
	// baseline is the saved run to compare with (nil: none).
	baseline      *runner.Outcome
	baselineName  string
	maxRegression float64
	// baselineDir is a --baseline directory: the --out of an earlier run,
	// whose NAME.json is each experiment's baseline.
	baselineDir string
	// suiteBase is, without --baseline, the run a second run of the same
	// experiment is compared with (recheck.go), named suiteBaseName.
	suiteBase     *runner.Outcome
	suiteBaseName string

	// criteria are what readiness is judged against (--criteria, else
	// the bundled plan); readiness is the last judgement written.
	criteria  *readiness.Criteria
	readiness *readiness.Assessment
	// notes go into the readiness report (how the runs were made).
	notes []string

	done  []*runner.Outcome
	names map[string]int // --out file names used, to keep them apart
}

// newOutputs reads the output settings for a command over n experiments.
// Its errors are usage errors: nothing has run yet.
func newOutputs(v *viper.Viper, stdout io.Writer, n int) (*outputs, error) {
	o := &outputs{
		stdout: stdout, json: v.GetString("json"), html: v.GetString("html"), markdown: v.GetString("markdown"),
		junit: v.GetString("junit"), dir: v.GetString("out"), stepSummary: os.Getenv("GITHUB_STEP_SUMMARY"),
		names: map[string]int{},
	}
	if n > 1 && (o.json != "" || o.html != "") {
		return nil, errors.New("--json and --html take one experiment; use --out DIR for several")
	}
	o.criteria = readiness.Default()
	if name := v.GetString("criteria"); name != "" {
		c, err := readiness.Load(name)
		if err != nil {
			return nil, fmt.Errorf("--criteria: %w", err)
		}
		o.criteria = c
	}
	if o.dir != "" {
		if err := os.MkdirAll(o.dir, 0o755); err != nil {
			return nil, fmt.Errorf("--out: %w", err)
		}
	}
	bound, err := report.ParseRegression(v.GetString("max-regression"))
	if err != nil {
		return nil, fmt.Errorf("--max-regression: %w", err)
	}
	o.maxRegression = bound
	if name := v.GetString("baseline"); name != "" {
		if st, err := os.Stat(name); err == nil && st.IsDir() {
			o.baselineDir = name
			return o, nil
		}
		base, err := readResult(name)
		if err != nil {
			return nil, fmt.Errorf("--baseline: %w", err)
		}
		o.baseline, o.baselineName = base, name
	}
	return o, nil
}

// readResult reads a saved Outcome.
func readResult(path string) (*runner.Outcome, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read result: %w", err)
	}
	defer f.Close()
	out, err := report.ReadJSON(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// compare sets out against the baseline, if there is one: a regression
// beyond the bound fails a run that passed. With a --baseline directory the
// baseline is the experiment's own result there (DIR/NAME.json); a run
// without one gets a warning and no comparison. Without --baseline, the
// suite's own baseline run (recheck.go) is the baseline of a later run of
// its experiment.
func (o *outputs) compare(out *runner.Outcome) {
	base, name := o.baseline, o.baselineName
	if s := o.suiteBase; s != nil && base == nil && o.baselineDir == "" && s != out && s.Experiment == out.Experiment {
		base, name = s, o.suiteBaseName
	}
	if o.baselineDir != "" {
		name = filepath.Join(o.baselineDir, safeName(out.Experiment)+".json")
		var err error
		if base, err = readResult(name); err != nil {
			out.Warnings = append(out.Warnings, fmt.Sprintf("--baseline %s: no comparison: %v", o.baselineDir, err))
			return
		}
	}
	if base != nil {
		out.Compare(report.Compare(out, base, name, o.maxRegression))
	}
}

// write prints the summary of out and writes every file asked for; the
// errors are of files that could not be written.
func (o *outputs) write(out *runner.Outcome) []error {
	o.done = append(o.done, out)
	var errs []error
	if err := report.Text(o.stdout, out); err != nil {
		errs = append(errs, fmt.Errorf("write summary: %w", err))
	}
	base := ""
	if o.dir != "" {
		base = filepath.Join(o.dir, o.fileName(out.Experiment))
	}
	for _, w := range []struct {
		path   string
		render func(io.Writer, *runner.Outcome) error
	}{
		{o.json, report.JSON}, {o.html, report.HTML},
		{suffixed(base, ".json"), report.JSON}, {suffixed(base, ".html"), report.HTML}, {suffixed(base, ".md"), report.Markdown},
	} {
		if w.path != "" {
			errs = append(errs, report.WriteFile(w.path, out, w.render))
		}
	}
	errs = append(errs, o.writeAll()...)
	if o.stepSummary != "" {
		errs = append(errs, appendFile(o.stepSummary, out, report.Markdown))
	}
	return nonNil(errs)
}

// writeAll rewrites the files that hold every experiment so far.
func (o *outputs) writeAll() []error {
	var errs []error
	junit := func(w io.Writer, _ *runner.Outcome) error { return report.JUnit(w, o.done...) }
	markdown := func(w io.Writer, _ *runner.Outcome) error {
		for _, out := range o.done {
			if err := report.Markdown(w, out); err != nil {
				return err
			}
		}
		return nil
	}
	if o.junit != "" {
		errs = append(errs, report.WriteFile(o.junit, nil, junit))
	}
	if o.dir != "" {
		errs = append(errs, report.WriteFile(filepath.Join(o.dir, "junit.xml"), nil, junit))
		errs = append(errs, o.writeReadiness()...)
	}
	if o.markdown != "" {
		errs = append(errs, report.WriteFile(o.markdown, nil, markdown))
	}
	return errs
}

// writeReadiness judges every run so far against the criteria and writes
// DIR/readiness.md and DIR/readiness.html.
func (o *outputs) writeReadiness() []error {
	o.readiness = readiness.Assess(o.criteria, o.done)
	o.readiness.Notes = o.notes
	var errs []error
	for _, f := range []struct {
		name   string
		render func(io.Writer, *readiness.Assessment) error
	}{{"readiness.md", report.ReadinessMarkdown}, {"readiness.html", report.ReadinessHTML}} {
		errs = append(errs, report.WriteFile(filepath.Join(o.dir, f.name), nil, func(w io.Writer, _ *runner.Outcome) error {
			return f.render(w, o.readiness)
		}))
	}
	return errs
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// fileName is the --out base name of an experiment: its name made safe for
// a file system, numbered when several experiments share it.
func (o *outputs) fileName(experiment string) string {
	name := safeName(experiment)
	o.names[name]++
	if n := o.names[name]; n > 1 {
		name += "-" + strconv.Itoa(n)
	}
	return name
}

// safeName is an experiment's name made safe for a file system.
func safeName(experiment string) string {
	name := unsafeName.ReplaceAllString(experiment, "_")
	if name == "" || name == "." || name == ".." {
		name = "result"
	}
	return name
}

func suffixed(base, ext string) string {
	if base == "" {
		return ""
	}
	return base + ext
}

// appendFile appends the rendering of out to path (GitHub's step summary
// collects what every step appends).
func appendFile(path string, out *runner.Outcome, render func(io.Writer, *runner.Outcome) error) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("append to %s: %w", path, err)
	}
	if err := render(f, out); err != nil {
		f.Close()
		return fmt.Errorf("append to %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("append to %s: %w", path, err)
	}
	return nil
}

func nonNil(errs []error) []error {
	out := errs[:0]
	for _, err := range errs {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}
