package report

import (
	"fmt"
	"strings"

	"github.com/chaosload/chaosload/runner"
)

// The load generator's own figures: information in every report, never a
// verdict by themselves. What the generator decides is in
// Outcome.Inconclusive and on each check judged without its lateness.

// generatorLines describes the load generator: its lateness, its CPU, how
// many checks were judged without its lateness, and what each phase was
// offered; nil when no load ran.
func generatorLines(o *runner.Outcome) []string {
	g := o.Generator
	if g == nil {
		return nil
	}
	lines := []string{
		fmt.Sprintf("own lateness (intended start → hand-off to the driver) p50 %s, p99 %s, max %s over %d operations",
			fmtMS(g.LagP50MS), fmtMS(g.LagP99MS), fmtMS(g.LagMaxMS), g.Ops),
		fmt.Sprintf("CPU peak %.0f%% of %d cores, longest saturated stretch %s", g.CPUPeak*100, g.Cores, secs(g.CPUSaturatedS)),
	}
	if g.Busy != "" {
		lines = append(lines, "busy: "+g.Busy+" (information: only a check it flips makes the run inconclusive)")
	}
	twice, flipped := judgedTwice(o)
	lines = append(lines, fmt.Sprintf("judged again without its lateness: %s, %d flipped", plural(twice, "check"), flipped))
	if off := offeredLine(g.Offered); off != "" {
		lines = append(lines, off)
	}
	for _, s := range o.Inconclusive {
		lines = append(lines, "decides: "+s)
	}
	return lines
}

// plural renders a count of things: "1 check", "3 checks".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// judgedTwice counts the checks (recovery and stress levels included)
// judged again without the generator's own lateness, and those that
// flipped.
func judgedTwice(o *runner.Outcome) (twice, flipped int) {
	count := func(cs []runner.Check) {
		for _, c := range cs {
			if c.WithoutLateness != nil {
				twice++
			}
			if c.Inconclusive {
				flipped++
			}
		}
	}
	count(o.Checks)
	if s := o.Stress; s != nil {
		for _, lv := range s.Levels {
			count(lv.Checks)
		}
	}
	for _, lr := range recoveries(o) {
		if r := lr.R; r.WithoutLateness != nil {
			twice++
			if r.Inconclusive {
				flipped++
			}
		}
	}
	return twice, flipped
}

// offeredLine sums up the offered load: "arrivals made/intended: baseline
// shoppers 2000/2000, fault #1 shoppers 3000/3000 (12 dropped)".
func offeredLine(offered []runner.OfferedLoad) string {
	if len(offered) == 0 {
		return ""
	}
	parts := make([]string, len(offered))
	for i, o := range offered {
		parts[i] = fmt.Sprintf("%s %s %d/%d", phaseLabel(o.Phase, o.Episode), o.Scenario, o.Made, o.Intended)
		if o.Dropped > 0 {
			parts[i] += fmt.Sprintf(" (%d dropped)", o.Dropped)
		}
		if o.Short {
			parts[i] += " SHORT"
		}
	}
	return "arrivals made/intended: " + strings.Join(parts, ", ")
}

// generatorText writes the generator's section of the terminal summary.
func generatorText(w *errWriter, o *runner.Outcome) {
	lines := generatorLines(o)
	if lines == nil {
		return
	}
	w.printf("\nLoad generator\n")
	for _, l := range lines {
		w.printf("  %s\n", l)
	}
}

// generatorMarkdown writes the generator's section in Markdown.
func generatorMarkdown(w *errWriter, o *runner.Outcome) {
	lines := generatorLines(o)
	if lines == nil {
		return
	}
	w.printf("### Load generator\n\n")
	for _, l := range lines {
		w.printf("- %s\n", mdText(l))
	}
	w.printf("\n")
}

// generatorCases are the JUnit testcases of the generator: one per phase's
// offered load, an <error> when the generator fell short; and one that
// carries an <error type="inconclusive"> naming what the generator decides.
func generatorCases(o *runner.Outcome) []junitCase {
	if o.Generator == nil && len(o.Inconclusive) == 0 {
		return nil
	}
	var out []junitCase
	if g := o.Generator; g != nil {
		for _, off := range g.Offered {
			c := junitCase{Name: fmt.Sprintf("offered load: %s made at least %s of its intended arrivals", off.Scenario, pct(runner.MinOffered)),
				Classname: o.Experiment + "." + classLabel(off.Phase, off.Episode), Time: "0.000"}
			if off.Short {
				msg := fmt.Sprintf("made %d of %d intended arrivals (%d dropped for want of a VU)", off.Made, off.Intended, off.Dropped)
				c.Error = &junitProblem{Message: msg, Type: "inconclusive", Body: msg}
			}
			out = append(out, c)
		}
	}
	c := junitCase{Name: "load generator: its own lateness decides no check", Classname: o.Experiment + ".generator", Time: "0.000"}
	if len(o.Inconclusive) > 0 {
		c.Error = &junitProblem{Message: "the load generator decides: " + strings.Join(o.Inconclusive, "; "), Type: "inconclusive",
			Body: joinLines(o.Inconclusive)}
	}
	return append(out, c)
}

// GeneratorLines are the HTML report's lines about the load generator.
func (p page) GeneratorLines() []string { return generatorLines(p.O) }
