package report

import (
	"fmt"
	"html/template"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/chaosload/chaosload/runner"
)

// stressPlan says what a stress run stepped: "vus 20 → 120 by 20, 3.00s each".
func stressPlan(s *runner.StressResult) string {
	if len(s.Planned) > 0 {
		levels := make([]string, len(s.Planned))
		for i, l := range s.Planned {
			levels[i] = fmt.Sprintf("%g", l)
		}
		return fmt.Sprintf("%s %s, %s each (first %s not judged)", stressUnit(s), strings.Join(levels, ", "),
			secs(s.EveryS), secs(s.SettleS))
	}
	return fmt.Sprintf("%s %g → %g by %g, %s each (first %s not judged)", stressUnit(s), s.From, s.To, s.Step,
		secs(s.EveryS), secs(s.SettleS))
}

func stressUnit(s *runner.StressResult) string {
	if s.Unit == "rate" {
		return "iterations/s"
	}
	return "VUs"
}

// stressLevelRow is the degradation curve's row for one level.
func stressLevelRow(lv runner.StressLevel) []string {
	cpu, rss := "—", "—"
	if lv.CPUMax != nil {
		cpu = fmt.Sprintf("%.0f%%", *lv.CPUMax)
	}
	if lv.RSSMax != nil {
		rss = fmtBytes(*lv.RSSMax)
	}
	result := passFail(lv.Passed)
	if lv.Inconclusive {
		result = "inconclusive"
	}
	if lv.GeneratorSaturated {
		result += " (generator saturated)"
	}
	return []string{fmt.Sprintf("%g", lv.Level), fmt.Sprintf("%.1f/s", lv.OKPerS), fmtMS(lv.P50MS), fmtMS(lv.P95MS),
		fmtMS(lv.P99MS), errorRate(lv.Errors, lv.Ops), cpu, rss, result}
}

var stressHeader = []string{"LEVEL", "OK/S", "P50", "P95", "P99", "ERRORS", "CPU MAX", "RSS MAX", "RESULT"}

// stressFindings are the lines under the curve: capacity, breaking point,
// operating point, recovery after overload.
func stressFindings(o *runner.Outcome) []string {
	s := o.Stress
	unit := stressUnit(s)
	var out []string
	if s.Capacity != nil {
		out = append(out, fmt.Sprintf("Capacity: %g %s (the last level at which every threshold held)", *s.Capacity, unit))
	} else {
		out = append(out, "Capacity: none — the first level already broke a threshold")
	}
	if s.BreakingPoint != nil && brokeByGenerator(s) {
		out = append(out, fmt.Sprintf("Breaking point: undecided at %g %s — only the generator's own lateness broke %s",
			*s.BreakingPoint, unit, strings.Join(s.BrokenBy, "; ")))
	} else if s.BreakingPoint != nil {
		out = append(out, fmt.Sprintf("Breaking point: %g %s — %s", *s.BreakingPoint, unit, strings.Join(s.BrokenBy, "; ")))
	} else if len(s.Levels) > 0 {
		out = append(out, fmt.Sprintf("Breaking point: not reached up to %g %s", s.Levels[len(s.Levels)-1].Level, unit))
	}
	if op := s.OperatingPoint; op != nil {
		line := fmt.Sprintf("Operating point: %g %s (%.0f%% of capacity)", op.Level, unit, runner.OperatingShare*100)
		if op.P95MS != nil && op.MeasuredAt != nil {
			line += fmt.Sprintf(", p95 %s measured at %g %s", fmtMS(*op.P95MS), *op.MeasuredAt, unit)
		} else {
			line += "; no level that low was run, so its p95 is not measured"
		}
		out = append(out, line)
	}
	if s.RecoverAt != nil && o.Recovery != nil {
		out = append(out, fmt.Sprintf("After overload, back at %g %s: %s (bound %s)", *s.RecoverAt, unit,
			recoveryObserved(o.Recovery), secs(o.Recovery.WithinS)))
	}
	return out
}

// brokeByGenerator reports whether the level at the breaking point broke
// only through the generator's own lateness.
func brokeByGenerator(s *runner.StressResult) bool {
	for _, lv := range s.Levels {
		if lv.Level == *s.BreakingPoint {
			return lv.Inconclusive
		}
	}
	return false
}

// stressText writes the stress section of the terminal summary.
func stressText(w *errWriter, o *runner.Outcome) {
	s := o.Stress
	if s == nil {
		return
	}
	w.printf("\nStress: %s\n", stressPlan(s))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  %s\n", strings.Join(stressHeader, "\t"))
	for _, lv := range s.Levels {
		fmt.Fprintf(tw, "  %s\n", strings.Join(stressLevelRow(lv), "\t"))
	}
	_ = tw.Flush()
	for _, line := range stressFindings(o) {
		w.printf("  %s\n", line)
	}
}

// stressMarkdown writes the stress section as Markdown.
func stressMarkdown(w *errWriter, o *runner.Outcome) {
	s := o.Stress
	if s == nil {
		return
	}
	w.printf("### Stress: %s\n\n| %s |\n|%s\n", mdText(stressPlan(s)), strings.Join(stressHeader, " | "),
		strings.Repeat("---|", len(stressHeader)))
	for _, lv := range s.Levels {
		w.printf("| %s |\n", strings.Join(stressLevelRow(lv), " | "))
	}
	w.printf("\n")
	for _, line := range stressFindings(o) {
		w.printf("- %s\n", mdText(line))
	}
	w.printf("\n")
}

// stressHTML is the stress section of the HTML report: the findings, the
// degradation curve as a chart (latency percentiles and throughput against
// the level) and as a table.
func stressHTML(o *runner.Outcome) template.HTML {
	s := o.Stress
	if s == nil || len(s.Levels) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(`<section id="stress"><h2>Stress: ` + esc(stressPlan(s)) + `</h2><ul class="findings">`)
	for _, line := range stressFindings(o) {
		b.WriteString("<li>" + esc(line) + "</li>")
	}
	b.WriteString(`</ul><div class="chart-box" id="chart-stress"><h3>Degradation curve</h3>`)
	b.WriteString(string(curveSVG(s)))
	b.WriteString(`</div><table><thead><tr>`)
	for _, h := range stressHeader {
		b.WriteString("<th>" + esc(h) + "</th>")
	}
	b.WriteString("</tr></thead><tbody>")
	for _, lv := range s.Levels {
		b.WriteString("<tr>")
		for _, c := range stressLevelRow(lv) {
			b.WriteString("<td>" + esc(c) + "</td>")
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</tbody></table></section>")
	return template.HTML(b.String()) //nolint:gosec // every value escaped above
}

// curveSVG draws p50, p95 and p99 (left axis, ms) and OK throughput (right
// axis, per second) against the level; the breaking level is marked.
func curveSVG(s *runner.StressResult) template.HTML {
	var w svgWriter
	w.printf(`<svg class="chart" data-chart="stress" viewBox="0 0 %s %s" role="img" aria-label="degradation curve">`, f(chartW), f(chartH))
	w.printf(`<rect class="plot" x="%s" y="%s" width="%s" height="%s"/>`, f(marginL), f(marginT), f(chartW-marginL-marginR-40), f(chartH-marginT-marginB))
	lo, hi := s.Levels[0].Level, s.Levels[len(s.Levels)-1].Level
	if hi == lo {
		hi = lo + 1
	}
	x := linear{lo, hi, marginL + 10, chartW - marginR - 50}
	maxMS, maxOps := 0.0, 0.0
	for _, lv := range s.Levels {
		maxMS, maxOps = math.Max(maxMS, lv.P99MS), math.Max(maxOps, lv.OKPerS)
	}
	msTicks, opsTicks := yTicks(math.Max(maxMS, 1), 4), yTicks(math.Max(maxOps, 1), 4)
	yMS := linear{0, msTicks[len(msTicks)-1], chartH - marginB, marginT}
	yOps := linear{0, opsTicks[len(opsTicks)-1], chartH - marginB, marginT}
	for _, t := range msTicks {
		w.text(marginL-6, yMS.at(t)+4, "end", "tick", fmtMS(t))
	}
	for _, t := range opsTicks {
		w.text(chartW-marginR, yOps.at(t)+4, "end", "tick", fmtRate(t))
	}
	for _, lv := range s.Levels {
		w.text(x.at(lv.Level), chartH-marginB+18, "middle", "tick", fmt.Sprintf("%g", lv.Level))
	}
	if s.BreakingPoint != nil {
		px := x.at(*s.BreakingPoint)
		w.printf(`<line class="fault-shot" x1="%s" x2="%s" y1="%s" y2="%s"/>`, f(px), f(px), f(marginT), f(chartH-marginB))
		w.text(px-4, marginT-6, "end", "fault-label", fmt.Sprintf("breaking point %g", *s.BreakingPoint))
	}
	lines := []struct {
		color string
		y     linear
		val   func(runner.StressLevel) float64
	}{
		{"#7aa6d8", yMS, func(l runner.StressLevel) float64 { return l.P50MS }},
		{"#1f5fa8", yMS, func(l runner.StressLevel) float64 { return l.P95MS }},
		{"#0b2f5c", yMS, func(l runner.StressLevel) float64 { return l.P99MS }},
		{"#2e8b57", yOps, func(l runner.StressLevel) float64 { return l.OKPerS }},
	}
	for _, ln := range lines {
		var pts []string
		for _, lv := range s.Levels {
			pts = append(pts, f(x.at(lv.Level))+","+f(ln.y.at(ln.val(lv))))
		}
		w.printf(`<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, ln.color, strings.Join(pts, " "))
	}
	w.text(4, marginT-20, "start", "unit", "latency p50 / p95 / p99 (left), ok/s (right, green)")
	w.printf(`</svg>`)
	return w.html()
}

// stressProperties are a stress run's findings as JUnit properties:
// capacity, breaking_point (with broken_by) and operating_point, each only
// when found. Levels are not testcases: a level that breaks is the
// measurement, not a failure.
func stressProperties(o *runner.Outcome) []junitProperty {
	s := o.Stress
	if s == nil {
		return nil
	}
	ps := []junitProperty{{"stress_unit", s.Unit}}
	if s.Capacity != nil {
		ps = append(ps, junitProperty{"capacity", fmt.Sprintf("%g", *s.Capacity)})
	}
	if s.BreakingPoint != nil {
		ps = append(ps, junitProperty{"breaking_point", fmt.Sprintf("%g", *s.BreakingPoint)},
			junitProperty{"broken_by", strings.Join(s.BrokenBy, "; ")})
	}
	if op := s.OperatingPoint; op != nil {
		ps = append(ps, junitProperty{"operating_point", fmt.Sprintf("%g", op.Level)})
	}
	return ps
}
