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
// ranges, throughput and latency, faults with applied/reverted times and
// revert durations, each check with observed vs expected, the recovery time
// against its bound, the verify results, the comparison with a baseline and
// the totals.
func Text(w io.Writer, o *runner.Outcome) error {
	ew := &errWriter{w: w}
	header(ew, o)
	phases(ew, o)
	stressText(ew, o)
	faultTable(ew, o)
	episodesText(ew, o)
	trafficText(ew, o)
	checks(ew, o)
	verifyLines(ew, o)
	resourcesText(ew, o)
	comparison(ew, o)
	totals(ew, o)
	generatorText(ew, o)
	notes(ew, o)
	ew.printf("\nVerdict: %s — %s\n", strings.ToUpper(string(o.Verdict)), verdictWhy(o))
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
	if fp := fastPath(o); fp != "" {
		w.printf("  fast path: %s\n", fp)
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
	fmt.Fprintf(tw, "  PHASE\tSPAN\tOPS\tOK/S\tP95\tERRORS\n")
	for _, p := range o.Phases {
		fmt.Fprintf(tw, "  %s\t%s – %s (%s)\t%d\t%.1f/s\t%s\t%s\n", phaseLabel(p.Name, p.Episode), secs(p.StartS), secs(p.EndS),
			secs(p.EndS-p.StartS), p.Ops, p.OKPerS, phaseP95(p), errorRate(p.Errors, p.Ops))
	}
	_ = tw.Flush()
}

func phaseP95(p runner.Phase) string {
	if p.Ops == 0 {
		return "—"
	}
	return fmtMS(p.P95MS)
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
	}
	_ = tw.Flush()
	for _, f := range o.Faults { // under the table, so as not to widen its columns
		if f.Error != "" {
			w.printf("  %s: ! %s\n", f.Name, f.Error)
		}
		if c := faultCounts(f); c != "" {
			w.printf("  %s: %s\n", f.Name, c)
		}
		if l := selectionLine(o, f); l != "" {
			w.printf("  %s\n", l)
		}
	}
}

// episodesText lists the fault episodes: their faults, when they were in
// effect, what the fault phase did, the recovery against its bound, and why
// faults were merged.
func episodesText(w *errWriter, o *runner.Outcome) {
	if len(o.Episodes) == 0 {
		return
	}
	w.printf("\nEpisodes\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  #\tFAULTS\tSPAN\tFAULT PHASE\tRECOVERY\tRESULT\n")
	for _, e := range o.Episodes {
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\n", e.Number, episodeFaults(e), episodeSpan(e),
			episodeFaultFigures(e), episodeRecovery(e), episodeResult(e))
	}
	_ = tw.Flush()
	for _, e := range o.Episodes {
		for _, m := range e.Merged {
			w.printf("  #%d: %s\n", e.Number, m)
		}
	}
}

func checks(w *errWriter, o *runner.Outcome) {
	rows := expectations(o)
	if len(rows) == 0 {
		return
	}
	w.printf("\nChecks\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  PHASE\tCHECK\tOBSERVED\tRESULT\n")
	for _, x := range rows {
		if c := x.Check; c != nil {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", x.Phase, c.Name, checkObserved(*c), checkResult(*c))
			continue
		}
		r := x.Recovery.R
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", x.Phase, recoveryName(r), recoveryObserved(r), recoveryResult(r))
	}
	_ = tw.Flush()
	for _, lr := range recoveries(o) {
		if lr.R.Detail != "" {
			w.printf("  %s: %s\n", lr.Label, lr.R.Detail)
		}
	}
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
		w.printf("  %s → %s: %d acknowledged, %d verified, %d lost%s  %s\n",
			v.Step, v.Target, v.Acknowledged, v.Verified, v.Lost, unverifiedText(v), passFail(v.Passed))
		for _, line := range verifyIDs(v) {
			w.printf("    %s\n", line)
		}
	}
}

func comparison(w *errWriter, o *runner.Outcome) {
	c := o.Comparison
	if c == nil {
		return
	}
	w.printf("\nBaseline: %s\n", comparisonHeading(c))
	if c.Note != "" {
		w.printf("  note: %s\n", c.Note)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  METRIC\tBASELINE\tNOW\tCHANGE\tRESULT\n")
	for _, m := range c.Metrics {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", metricTitle(m), metricValue(m.Metric, m.Baseline),
			metricValue(m.Metric, m.Current), changeText(m), comparisonResult(m))
	}
	_ = tw.Flush()
}

func totals(w *errWriter, o *runner.Outcome) {
	t := o.Totals
	w.printf("\nTotals: %d ops in %s, %s errors", t.Ops, secs(o.DurationS), errorRate(t.Errors, t.Ops))
	if len(t.ByClass) > 0 {
		w.printf(" (%s)", classList(t.ByClass))
	}
	w.printf(", %d dropped\n", t.Dropped)
}

// classList renders counts by error class in name order: "http_503 12, timeout 3".
func classList(byClass map[string]int64) string {
	classes := sortedKeys(byClass)
	parts := make([]string, len(classes))
	for i, c := range classes {
		parts[i] = fmt.Sprintf("%s %d", c, byClass[c])
	}
	return strings.Join(parts, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func notes(w *errWriter, o *runner.Outcome) {
	for _, s := range o.Warnings {
		w.printf("warning: %s\n", s)
	}
	for _, s := range o.Errors {
		w.printf("error: %s\n", s)
	}
}

// fastPath says how the proxies carried connections without a fault:
// "sockmap" or "copy" when every target agrees, each with its targets
// otherwise, "" when no target says.
func fastPath(o *runner.Outcome) string {
	var order []string
	byPath := map[string][]string{}
	for _, t := range o.Targets {
		if t.FastPath == "" {
			continue
		}
		if _, ok := byPath[t.FastPath]; !ok {
			order = append(order, t.FastPath)
		}
		byPath[t.FastPath] = append(byPath[t.FastPath], t.Name)
	}
	if len(order) == 1 {
		return order[0]
	}
	parts := make([]string, len(order))
	for i, fp := range order {
		parts[i] = fmt.Sprintf("%s (%s)", fp, strings.Join(byPath[fp], ", "))
	}
	return strings.Join(parts, ", ")
}
