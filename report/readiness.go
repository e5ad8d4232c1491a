package report

import (
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/chaosload/chaosload/readiness"
	"github.com/chaosload/chaosload/runner"
)

// The readiness report: a suite of runs judged against a plan's criteria
// (package readiness), as Markdown (ReadinessMarkdown) and as one
// self-contained HTML page (ReadinessHTML). Both render the same view:
// the verdict with its reasons, the criteria table, then the capacity, the
// users ladder, recovery times, errors by class and phase, resources with
// headroom, the baseline comparison, the recommendations with the figures
// they cite, and the experiments that ran.

// rdView is what both renderings show.
type rdView struct {
	Plan, File string
	// Verdict is the readiness verdict; Class its CSS class (ready,
	// conditions, not-ready); Mark its Markdown sign.
	Verdict, Class, Mark string
	Reasons, Notes       []string
	// Summary counts the criteria by status and the experiments.
	Summary  string
	Criteria rdTable
	Tables   []rdTable
	// Curves are the stress runs' degradation curves (HTML only).
	Curves []rdCurve
	// Findings by kind: capacity first, then optimisation.
	Findings []rdFindings
}

// rdTable is one table of the report; an empty one shows Empty instead.
type rdTable struct {
	ID, Title, Empty string
	Head             []string
	// Num marks the columns that are numbers (right-aligned); Code is a
	// column shown as code in Markdown (-1: none).
	Num  []bool
	Code int
	Rows []rdRow
}

// rdRow is a table row; Class marks it (met, not-met, not-measured).
type rdRow struct {
	Class string
	Cells []string
}

// rdCurve is one stress run's degradation curve, drawn from the users
// ladder's rows of that run.
type rdCurve struct {
	Run string
	SVG template.HTML
}

type rdFindings struct {
	Title string
	List  []readiness.Finding
}

func newRDView(a *readiness.Assessment) *rdView {
	v := &rdView{Plan: a.Plan, File: a.File, Verdict: string(a.Verdict), Reasons: a.Reasons, Notes: a.Notes}
	switch a.Verdict {
	case readiness.Ready:
		v.Class, v.Mark = "ready", "✅"
	case readiness.ReadyWithConditions:
		v.Class, v.Mark = "conditions", "⚠️"
	default:
		v.Class, v.Mark = "not-ready", "❌"
	}
	v.Criteria = criteriaTable(a)
	v.Summary = summaryLine(a)
	v.Curves = curves(a)
	v.Tables = []rdTable{capacityTable(a), ladderTable(a), recoveryTable(a), errorTable(a), resourceTable(a), baselineTable(a), runTable(a)}
	for _, kind := range []string{"capacity", "optimisation"} {
		fs := rdFindings{Title: map[string]string{"capacity": "Capacity recommendations", "optimisation": "Optimisation opportunities"}[kind]}
		for _, f := range a.Findings {
			if f.Kind == kind {
				fs.List = append(fs.List, f)
			}
		}
		v.Findings = append(v.Findings, fs)
	}
	return v
}

func summaryLine(a *readiness.Assessment) string {
	n := map[readiness.Status]int{}
	for _, j := range a.Judgements {
		n[j.Status]++
	}
	return fmt.Sprintf("%d criteria: %d met, %d not met, %d not measured · %d experiments",
		len(a.Judgements), n[readiness.Met], n[readiness.NotMet], n[readiness.NotMeasured], len(a.Runs))
}

func criteriaTable(a *readiness.Assessment) rdTable {
	t := rdTable{ID: "criteria", Title: "Criteria", Head: []string{"", "Criterion", "Expected", "Measured", "Decided by"},
		Num: []bool{false, false, false, true, false}, Code: 2, Empty: "The criteria file states no criterion."}
	for _, j := range a.Judgements {
		c := j.Criterion
		mark, class := "✔", "met"
		switch j.Status {
		case readiness.NotMet:
			mark, class = "✘", "not-met"
		case readiness.NotMeasured:
			mark, class = "not measured", "not-measured"
		}
		text := c.Text + " (" + c.ID + ")"
		if c.Advisory {
			text += " · advisory"
		}
		expect := c.Metric + " " + c.Expect.Text
		if c.Tag != "" {
			expect += " · tag " + c.Tag
		}
		by := j.Why
		if d := j.Decided; d != nil {
			by = fmt.Sprintf("%s: %s (%d measurements in %d runs)", d.Run, d.Figure, j.Measured, j.Runs)
		}
		t.Rows = append(t.Rows, rdRow{class, []string{mark, text, expect, j.Shown, by}})
	}
	return t
}

func capacityTable(a *readiness.Assessment) rdTable {
	t := rdTable{ID: "capacity", Code: -1, Title: "Capacity", Empty: "No stress run: capacity not measured.",
		Head: []string{"Run", "Capacity", "Breaking point", "What broke", "Operating point (80%)", "p95 there", "Most ok/s held"},
		Num:  []bool{false, true, true, false, true, true, true}}
	for _, c := range a.Capacity {
		bp, what := fmt.Sprintf("none up to %g", c.MaxLevel), "—"
		if c.BreakingPoint != nil {
			bp, what = fmt.Sprintf("%g", *c.BreakingPoint), strings.Join(c.BrokenBy, "; ")
		}
		op, p95 := "—", "—"
		if c.Operating != nil {
			op = fmt.Sprintf("%g", *c.Operating)
			if c.OperatingP95MS != nil {
				p95 = fmt.Sprintf("%s at %g", fmtMS(*c.OperatingP95MS), *c.OperatingAt)
			}
		}
		t.Rows = append(t.Rows, rdRow{"", []string{c.Run, optLevel(c.Capacity, c.Unit), bp, what, op, p95, fmt.Sprintf("%.1f", c.OKPerS)}})
	}
	return t
}

func optLevel(v *float64, unit string) string {
	if v == nil {
		return "below the first level"
	}
	return fmt.Sprintf("%g %s", *v, unit)
}

func ladderTable(a *readiness.Assessment) rdTable {
	t := rdTable{ID: "ladder", Code: -1, Title: "Users ladder", Empty: "No run with concurrent users (VUs) to place on the ladder.",
		Head: []string{"Users", "Run", "Measured on", "p50", "p95", "p99", "ok/s", "Errors", "CPU (one core = 100%)", "Memory", "Held"},
		Num:  []bool{true, false, false, true, true, true, true, true, true, true, false}}
	for _, r := range a.Ladder {
		held, class := "✔", "met"
		if !r.Held {
			held, class = "✘", "not-met"
		}
		t.Rows = append(t.Rows, rdRow{class, []string{fmt.Sprintf("%g", r.Users), r.Run, r.Source, fmtMS(r.P50MS), fmtMS(r.P95MS),
			fmtMS(r.P99MS), fmt.Sprintf("%.1f", r.OKPerS), fmt.Sprintf("%.2f%%", r.ErrorRate*100), optPct(r.CPU), optBytes(r.RSS), held}})
	}
	return t
}

// curves draws each stress run's rungs of the ladder as its degradation
// curve (latency percentiles and ok/s against users), with its breaking
// point.
func curves(a *readiness.Assessment) []rdCurve {
	var out []rdCurve
	for _, c := range a.Capacity {
		s := &runner.StressResult{BreakingPoint: c.BreakingPoint}
		for _, r := range a.Ladder {
			if r.Run == c.Run && r.Source == "stress level" {
				s.Levels = append(s.Levels, runner.StressLevel{Level: r.Users, P50MS: r.P50MS, P95MS: r.P95MS, P99MS: r.P99MS, OKPerS: r.OKPerS})
			}
		}
		if len(s.Levels) > 0 {
			out = append(out, rdCurve{Run: c.Run, SVG: curveSVG(s)})
		}
	}
	return out
}

func optPct(v *float64) string {
	if v == nil {
		return "—"
	}
	return fmt.Sprintf("%.0f%%", *v)
}

func optBytes(v *float64) string {
	if v == nil {
		return "—"
	}
	return fmtBytes(*v)
}

func recoveryTable(a *readiness.Assessment) rdTable {
	t := rdTable{ID: "recovery", Code: -1, Title: "Recovery", Empty: "No fault episode or overload: no recovery measured.",
		Head: []string{"Run", "After", "Recovered in", "Bound", "First good window", "Flaps", "Result"},
		Num:  []bool{false, false, true, true, true, true, false}}
	for _, r := range a.Recoveries {
		res, class := "✔", "met"
		if !r.Passed {
			res, class = "✘ "+r.Detail, "not-met"
		}
		t.Rows = append(t.Rows, rdRow{class, []string{r.Run, r.What, optSecs(r.MeasuredS), secs(r.WithinS), optSecs(r.FirstGoodS), fmt.Sprint(r.Flaps), res}})
	}
	return t
}

func errorTable(a *readiness.Assessment) rdTable {
	t := rdTable{ID: "errors", Code: -1, Title: "Errors by class and phase", Empty: "No errors in any phase.",
		Head: []string{"Run", "Phase", "Class", "Count", "Share of the phase"}, Num: []bool{false, false, false, true, true}}
	for _, e := range a.Errors {
		t.Rows = append(t.Rows, rdRow{"", []string{e.Run, e.Phase, e.Class, fmt.Sprint(e.Count), fmt.Sprintf("%.2f%%", e.Share*100)}})
	}
	return t
}

func resourceTable(a *readiness.Assessment) rdTable {
	t := rdTable{ID: "resources", Code: -1, Title: "Resources and headroom", Empty: "No resources monitored (monitor:, or the demo stack).",
		Head: []string{"Run", "Processes", "CPU peak (one core = 100%)", "CPU headroom", "Memory peak", "Memory headroom", "Memory trend (private, after warm-up)"},
		Num:  []bool{false, false, true, false, true, false, true}}
	for _, r := range a.Resources {
		slope := "—"
		switch {
		case r.Trend != nil && r.TrendS >= readiness.MinTrendS:
			slope = fmt.Sprintf("%s/min over %.0fs", fmtBytes(*r.Trend), r.TrendS)
		case r.Trend != nil:
			slope = fmt.Sprintf("— (%.0fs after warm-up: under a minute)", r.TrendS)
		}
		cpu := fmt.Sprintf("%.0f%%", r.CPUPeak)
		if r.Cores > 0 {
			cpu += fmt.Sprintf(" of %d cores", r.Cores)
		}
		t.Rows = append(t.Rows, rdRow{"", []string{r.Run, r.Processes, cpu, dash(r.CPUHeadroom), fmtBytes(r.RSSPeak), dash(r.MemHeadroom), slope}})
	}
	return t
}

func dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func baselineTable(a *readiness.Assessment) rdTable {
	t := rdTable{ID: "baseline", Code: -1, Title: "Performance baseline", Empty: "No run compared with a baseline (--baseline OLD.json); each run's --json result is a baseline for the next.",
		Head: []string{"Run", "Baseline", "Metrics compared", "Regressed"}, Num: []bool{false, false, true, false}}
	for _, b := range a.Baselines {
		reg, class := "none", "met"
		if len(b.Regressed) > 0 {
			reg, class = strings.Join(b.Regressed, ", "), "not-met"
		}
		t.Rows = append(t.Rows, rdRow{class, []string{b.Run, b.Baseline, fmt.Sprint(b.Compared), reg}})
	}
	return t
}

func runTable(a *readiness.Assessment) rdTable {
	t := rdTable{ID: "runs", Code: -1, Title: "Experiments", Empty: "No experiment ran.",
		Head: []string{"Experiment", "File", "Tags", "Verdict", "Load", "Failed"}, Num: []bool{false, false, false, false, true, false}}
	for _, r := range a.Runs {
		v := string(r.Verdict)
		if r.Partial {
			v += " (partial)"
		}
		t.Rows = append(t.Rows, rdRow{"", []string{r.Experiment, r.File, strings.Join(r.Tags, ", "), v, secs(r.DurationS), dash(strings.Join(r.Failed, "; "))}})
	}
	return t
}

// ReadinessMarkdown writes the readiness report as GitHub-flavoured
// Markdown.
func ReadinessMarkdown(w io.Writer, a *readiness.Assessment) error {
	v := newRDView(a)
	ew := &errWriter{w: w}
	ew.printf("# %s Readiness: %s\n\n", v.Mark, strings.ToUpper(v.Verdict))
	ew.printf("Plan: **%s** (`%s`) · %s\n\n", mdText(v.Plan), mdCode(v.File), mdText(v.Summary))
	for _, r := range v.Reasons {
		ew.printf("- %s\n", mdText(r))
	}
	ew.printf("\n")
	for _, n := range v.Notes {
		ew.printf("> Note: %s\n\n", mdText(n))
	}
	mdTable(ew, v.Criteria)
	for _, t := range v.Tables[:len(v.Tables)-1] {
		mdTable(ew, t)
	}
	for _, fs := range v.Findings {
		ew.printf("## %s\n\n", fs.Title)
		if len(fs.List) == 0 {
			ew.printf("None: no rule found what it looks for in these runs.\n")
		}
		for _, f := range fs.List {
			ew.printf("- %s *(rule %s)*\n", mdText(f.Text), f.Rule)
			for _, fig := range f.Figures {
				ew.printf("  - %s — %s: %s\n", mdText(fig.Run), mdText(fig.What), mdText(fig.Value))
			}
		}
		ew.printf("\n")
	}
	mdTable(ew, v.Tables[len(v.Tables)-1])
	return ew.err
}

func mdTable(w *errWriter, t rdTable) {
	w.printf("## %s\n\n", t.Title)
	if len(t.Rows) == 0 {
		w.printf("%s\n\n", mdText(t.Empty))
		return
	}
	w.printf("| %s |\n|", strings.Join(t.Head, " | "))
	for i := range t.Head {
		if t.Num[i] {
			w.printf("---:|")
		} else {
			w.printf("---|")
		}
	}
	w.printf("\n")
	for _, r := range t.Rows {
		cells := make([]string, len(r.Cells))
		for i, c := range r.Cells {
			cells[i] = mdText(c)
			if i == t.Code {
				cells[i] = "`" + mdCode(c) + "`"
			}
		}
		w.printf("| %s |\n", strings.Join(cells, " | "))
	}
	w.printf("\n")
}
