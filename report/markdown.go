package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/chaosload/chaosload/runner"
)

// Markdown writes o as GitHub-flavoured Markdown: a heading with the
// verdict, the expectations as a table (checks, each episode's recovery,
// verify), the comparison with a baseline, then the fault episodes, phases,
// faults and totals. It suits a
// pull-request comment and GitHub Actions' $GITHUB_STEP_SUMMARY; several
// outcomes written one after another make one document.
func Markdown(w io.Writer, o *runner.Outcome) error {
	ew := &errWriter{w: w}
	mdHeader(ew, o)
	mdExpectations(ew, o)
	mdComparison(ew, o)
	mdEpisodes(ew, o)
	trafficMarkdown(ew, o)
	mdPhases(ew, o)
	stressMarkdown(ew, o)
	mdFaults(ew, o)
	resourcesMarkdown(ew, o)
	mdTotals(ew, o)
	generatorMarkdown(ew, o)
	return ew.err
}

func verdictMark(v runner.Verdict) string {
	switch v {
	case runner.Passed:
		return "✅"
	case runner.Failed:
		return "❌"
	}
	return "⚠️"
}

func mdHeader(w *errWriter, o *runner.Outcome) {
	w.printf("## %s chaosload: %s — %s\n\n", verdictMark(o.Verdict), mdText(o.Experiment), strings.ToUpper(string(o.Verdict)))
	if d := strings.TrimSpace(o.Description); d != "" {
		w.printf("> %s\n\n", mdText(strings.Join(strings.Fields(d), " ")))
	}
	w.printf("**%s**\n\n", mdText(verdictWhy(o)))
	meta := []string{fmt.Sprintf("seed `%d`", o.Seed), "load " + secs(o.DurationS)}
	if o.File != "" {
		meta = append([]string{"`" + mdCode(o.File) + "`"}, meta...)
	}
	if !o.StartedAt.IsZero() {
		meta = append(meta, "started "+o.StartedAt.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	if fp := fastPath(o); fp != "" {
		meta = append(meta, "fast path: "+mdText(fp))
	}
	if o.Partial {
		meta = append(meta, "**partial results**")
	}
	w.printf("%s\n\n", strings.Join(meta, " · "))
	for _, s := range o.Errors {
		w.printf("- ⚠️ error: %s\n", mdText(s))
	}
	for _, s := range o.Warnings {
		w.printf("- warning: %s\n", mdText(s))
	}
	if len(o.Errors)+len(o.Warnings) > 0 {
		w.printf("\n")
	}
}

func mdExpectations(w *errWriter, o *runner.Outcome) {
	rows := expectations(o)
	if len(rows) == 0 && len(o.Verify) == 0 {
		return
	}
	w.printf("| Phase | Check | Observed | Result |\n|---|---|---|---|\n")
	for _, x := range rows {
		if c := x.Check; c != nil {
			w.printf("| %s | `%s` | %s | %s |\n", x.Phase, mdCode(c.Name), mdText(checkObserved(*c)), mdResult(checkResult(*c)))
			continue
		}
		r := x.Recovery.R
		obs := recoveryObserved(r)
		if r.Detail != "" {
			obs += " — " + r.Detail
		}
		w.printf("| %s | %s | %s | %s |\n", x.Phase, mdText(recoveryName(r)), mdText(obs), mdResult(recoveryResult(r)))
	}
	for _, v := range o.Verify {
		w.printf("| verify | %s | %s | %s |\n", mdText(verifyName(v)), mdText(verifyObserved(v)), mdResult(passFail(v.Passed)))
	}
	w.printf("\n")
}

// mdEpisodes lists the fault episodes, with why faults were merged.
func mdEpisodes(w *errWriter, o *runner.Outcome) {
	if len(o.Episodes) == 0 {
		return
	}
	w.printf("### Episodes\n\n| # | Faults | Span | Fault phase | Recovery | Result |\n|---|---|---|---|---|---|\n")
	for _, e := range o.Episodes {
		w.printf("| %d | %s | %s | %s | %s | %s |\n", e.Number, mdText(episodeFaults(e)), episodeSpan(e),
			episodeFaultFigures(e), mdText(episodeRecovery(e)), mdResult(episodeResult(e)))
	}
	w.printf("\n")
	for _, e := range o.Episodes {
		for _, m := range e.Merged {
			w.printf("- episode %d: %s\n", e.Number, mdText(m))
		}
	}
	if merged(o) {
		w.printf("\n")
	}
}

// merged reports whether some episode merged several faults.
func merged(o *runner.Outcome) bool {
	for _, e := range o.Episodes {
		if len(e.Merged) > 0 {
			return true
		}
	}
	return false
}

func mdComparison(w *errWriter, o *runner.Outcome) {
	c := o.Comparison
	if c == nil {
		return
	}
	w.printf("### Baseline\n\n%s", mdText(comparisonHeading(c)))
	if c.Note != "" {
		w.printf(" (note: %s)", mdText(c.Note))
	}
	w.printf("\n\n| Metric | Baseline | Now | Change | Result |\n|---|---|---|---|---|\n")
	for _, m := range c.Metrics {
		w.printf("| %s | %s | %s | %s | %s |\n", mdText(metricTitle(m)), metricValue(m.Metric, m.Baseline),
			metricValue(m.Metric, m.Current), mdText(changeText(m)), mdResult(comparisonResult(m)))
	}
	w.printf("\n")
}

func mdPhases(w *errWriter, o *runner.Outcome) {
	if len(o.Phases) == 0 {
		return
	}
	w.printf("### Phases\n\n| Phase | Span | Ops | OK ops/s | p50 | p95 | p99 | Errors |\n|---|---|---|---|---|---|---|---|\n")
	for _, p := range o.Phases {
		p50, p95, p99 := "—", "—", "—"
		if p.Ops > 0 {
			p50, p95, p99 = fmtMS(p.P50MS), fmtMS(p.P95MS), fmtMS(p.P99MS)
		}
		w.printf("| %s | %s – %s | %d | %.1f | %s | %s | %s | %s |\n", phaseLabel(p.Name, p.Episode), secs(p.StartS), secs(p.EndS),
			p.Ops, p.OKPerS, p50, p95, p99, errorRate(p.Errors, p.Ops))
	}
	w.printf("\n")
}

func mdFaults(w *errWriter, o *runner.Outcome) {
	if len(o.Faults) == 0 {
		return
	}
	w.printf("### Faults\n\n| Fault | Kind | Target | Applied | Reverted | Revert took |\n|---|---|---|---|---|---|\n")
	for _, f := range o.Faults {
		reverted := optSecs(f.RevertedS)
		if f.Error != "" {
			reverted += " ⚠️ " + mdText(f.Error)
		}
		if c := faultCounts(f); c != "" {
			reverted += " (" + c + ")"
		}
		if l := selectionLine(o, f); l != "" {
			reverted += " (" + mdText(l) + ")"
		}
		w.printf("| %s | %s | %s | %s | %s | %.0fms |\n", mdText(f.Name), mdText(f.Kind), mdText(f.Target),
			optSecs(f.AppliedS), reverted, f.RevertMS)
	}
	w.printf("\n")
}

func mdTotals(w *errWriter, o *runner.Outcome) {
	t := o.Totals
	w.printf("**Totals:** %d ops, %s errors", t.Ops, errorRate(t.Errors, t.Ops))
	if len(t.ByClass) > 0 {
		w.printf(" (%s)", mdText(classList(t.ByClass)))
	}
	w.printf(", %d dropped\n\n", t.Dropped)
}

func mdResult(r string) string {
	switch r {
	case "pass":
		return "✅ pass"
	case "FAIL":
		return "❌ **FAIL**"
	}
	return r
}

// mdText escapes what would break a table cell or start Markdown markup.
var mdReplacer = strings.NewReplacer(
	"|", `\|`, "\n", " ", "\r", "", "*", `\*`, "_", `\_`, "`", "\\`", "<", "&lt;", ">", "&gt;", "[", `\[`, "]", `\]`,
)

func mdText(s string) string { return mdReplacer.Replace(s) }

// mdCode prepares s for a code span inside a table: pipes still end a cell
// there, and a backtick would end the span.
func mdCode(s string) string {
	return strings.NewReplacer("|", `\|`, "`", "'", "\n", " ").Replace(s)
}
