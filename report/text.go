// Package report renders a run's Outcome for people and machines: the
// terminal summary and the versioned JSON form. It runs nothing.
package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/chaosload/chaosload/runner"
)

// Text writes the terminal summary of o: the verdict, phases with their time
// ranges, faults with applied/reverted times and revert durations, each check
// with observed vs expected, the recovery time against its bound, the verify
// results and the totals.
func Text(w io.Writer, o *runner.Outcome) error {
	ew := &errWriter{w: w}
	header(ew, o)
	phases(ew, o)
	faultTable(ew, o)
	checks(ew, o)
	verifyLines(ew, o)
	totals(ew, o)
	notes(ew, o)
	verdictLine(ew, o)
	return ew.err
}

// errWriter keeps the first write error so rendering code stays linear.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, a ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, a...)
	}
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func header(w *errWriter, o *runner.Outcome) {
	w.printf("chaosload · %s · %s (seed %d)\n", o.Experiment, strings.ToUpper(string(o.Verdict)), o.Seed)
	if o.File != "" {
		w.printf("  file: %s\n", o.File)
	}
	if s := o.Stack; s != nil {
		w.printf("  stack: %s (%s) api %s, postgres %s, redis %s\n", s.Name, s.Mode, s.API, s.Postgres, s.Redis)
	}
	if o.Partial {
		w.printf("  PARTIAL RESULTS: the run did not complete\n")
	}
}

func phases(w *errWriter, o *runner.Outcome) {
	if len(o.Phases) == 0 {
		return
	}
	w.printf("\nPhases\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, p := range o.Phases {
		fmt.Fprintf(tw, "  %s\t%s – %s\t(%s)\n", p.Name, secs(p.StartS), secs(p.EndS), secs(p.EndS-p.StartS))
	}
	_ = tw.Flush()
}

func faultTable(w *errWriter, o *runner.Outcome) {
	if len(o.Faults) == 0 {
		return
	}
	w.printf("\nFaults\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  NAME\tKIND\tTARGET\tAPPLIED\tREVERTED\tREVERT TOOK\n")
	for _, f := range o.Faults {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", f.Name, f.Kind, f.Target,
			optSecs(f.AppliedS), optSecs(f.RevertedS), fmt.Sprintf("%.0fms", f.RevertMS))
		if f.Error != "" {
			fmt.Fprintf(tw, "  \t! %s\t\t\t\t\n", f.Error)
		}
	}
	_ = tw.Flush()
}

func checks(w *errWriter, o *runner.Outcome) {
	if len(o.Checks) == 0 && o.Recovery == nil {
		return
	}
	w.printf("\nChecks\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  PHASE\tCHECK\tOBSERVED\tRESULT\n")
	for _, c := range o.Checks {
		result := passFail(c.Passed)
		if c.Skipped {
			result = "skipped"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", c.Phase, c.Name, c.Observed, result)
	}
	if r := o.Recovery; r != nil {
		fmt.Fprintf(tw, "  recovery\t%s\t%s\t%s\n", recoveryName(r), recoveryObserved(r), passFail(r.Passed))
	}
	_ = tw.Flush()
	if r := o.Recovery; r != nil && r.Detail != "" {
		w.printf("  %s\n", r.Detail)
	}
}

func recoveryName(r *runner.Recovery) string {
	return fmt.Sprintf("back to steady state within %s (hold %s, window %s)", secs(r.WithinS), secs(r.HoldS), secs(r.WindowS))
}

func recoveryObserved(r *runner.Recovery) string {
	if r.MeasuredS == nil {
		return "not recovered"
	}
	s := "recovered in " + secs(*r.MeasuredS)
	if r.Flaps > 0 {
		s += fmt.Sprintf(", %d flaps", r.Flaps)
	}
	return s
}

func verifyLines(w *errWriter, o *runner.Outcome) {
	if len(o.Verify) == 0 {
		return
	}
	w.printf("\nVerify (acknowledged writes)\n")
	for _, v := range o.Verify {
		if v.Error != "" {
			w.printf("  %s → %s: %d acknowledged, check failed: %s  FAIL\n", v.Step, v.Target, v.Acknowledged, v.Error)
			continue
		}
		w.printf("  %s → %s: %d acknowledged, %d verified, %d lost  %s\n",
			v.Step, v.Target, v.Acknowledged, v.Verified, v.Lost, passFail(v.Passed))
		if len(v.LostIDs) > 0 {
			w.printf("    lost ids: %s\n", strings.Join(v.LostIDs, ", "))
		}
	}
}

func totals(w *errWriter, o *runner.Outcome) {
	t := o.Totals
	rate := 0.0
	if t.Ops > 0 {
		rate = float64(t.Errors) / float64(t.Ops)
	}
	w.printf("\nTotals: %d ops in %s, %.2f%% errors", t.Ops, secs(o.DurationS), rate*100)
	if len(t.ByClass) > 0 {
		classes := make([]string, 0, len(t.ByClass))
		for c := range t.ByClass {
			classes = append(classes, c)
		}
		sort.Strings(classes)
		parts := make([]string, len(classes))
		for i, c := range classes {
			parts[i] = fmt.Sprintf("%s %d", c, t.ByClass[c])
		}
		w.printf(" (%s)", strings.Join(parts, ", "))
	}
	w.printf(", %d dropped\n", t.Dropped)
}

func notes(w *errWriter, o *runner.Outcome) {
	for _, s := range o.Warnings {
		w.printf("warning: %s\n", s)
	}
	for _, s := range o.Errors {
		w.printf("error: %s\n", s)
	}
}

func verdictLine(w *errWriter, o *runner.Outcome) {
	var why string
	switch o.Verdict {
	case runner.Passed:
		why = "every expectation held"
	case runner.Failed:
		why = "failed: " + strings.Join(failedNames(o), "; ")
	case runner.Aborted:
		why = "aborted: " + o.AbortReason + " (faults reverted)"
	case runner.Interrupted:
		why = "interrupted (faults reverted, partial results)"
	case runner.Errored:
		why = "infrastructure error (see above)"
	}
	w.printf("\nVerdict: %s — %s\n", strings.ToUpper(string(o.Verdict)), why)
}

// failedNames lists every expectation that did not hold.
func failedNames(o *runner.Outcome) []string {
	var names []string
	for _, c := range o.Checks {
		if !c.Passed && !c.Skipped {
			names = append(names, fmt.Sprintf("%s %s (observed %s)", c.Phase, c.Name, c.Observed))
		}
	}
	if r := o.Recovery; r != nil && !r.Passed {
		names = append(names, "recovery: "+recoveryObserved(r))
	}
	for _, v := range o.Verify {
		if !v.Passed {
			names = append(names, fmt.Sprintf("verify %s: %d lost", v.Step, v.Lost))
		}
	}
	return names
}

func passFail(ok bool) string {
	if ok {
		return "pass"
	}
	return "FAIL"
}

func secs(s float64) string {
	switch {
	case s >= 100:
		return fmt.Sprintf("%.0fs", s)
	case s >= 10:
		return fmt.Sprintf("%.1fs", s)
	}
	return fmt.Sprintf("%.2fs", s)
}

func optSecs(s *float64) string {
	if s == nil {
		return "—"
	}
	return secs(*s)
}
