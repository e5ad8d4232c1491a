package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/chaosload/chaosload/runner"
)

//go:embed html.tmpl
var htmlSource string

var htmlPage = template.Must(template.New("report").Funcs(template.FuncMap{
	"secs": secs, "optSecs": optSecs, "ms": fmtMS, "fastPath": fastPath,
	"rate": errorRate, "counts": faultCounts, "label": phaseLabel,
	"bytes": fmtBytes, "process": processName, "selection": selectionLine,
}).Parse(htmlSource))

// HTML writes o as one self-contained HTML page, readable offline: styles
// inlined, charts drawn as inline SVG, no script and no fetch of anything.
// The verdict table comes first (every check, each episode's recovery bound,
// verify, the comparison with a baseline), then a timeline of the phases,
// the fault episodes (each shaded, with its recovery point and bound) and
// the faults, and the charts over time: latency p50/p95/p99, throughput,
// errors stacked by class, VUs and arrival rate, and the target's resource
// use when it was monitored; each chart shades the fault windows and marks
// each episode's recovery point and bound. The episodes table follows.
func HTML(w io.Writer, o *runner.Outcome) error {
	if err := htmlPage.Execute(w, newPage(o)); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	return nil
}

// page is what the template shows.
type page struct {
	O        *runner.Outcome
	Verdict  string
	Why      string
	Rows     []verdictRow
	Timeline template.HTML
	Charts   []renderedChart
	// Monitored is false when no interval has target resource samples.
	Monitored bool
	// Stress is the stress section (stress.go); "" without one.
	Stress template.HTML
}

// verdictRow is one line of the verdict table.
type verdictRow struct {
	Phase, Check, Observed, Result, Detail string
}

type renderedChart struct {
	*chart
	Drawing template.HTML
}

func newPage(o *runner.Outcome) page {
	p := page{O: o, Verdict: strings.ToUpper(string(o.Verdict)), Why: verdictWhy(o), Rows: verdictRows(o), Stress: stressHTML(o)}
	if len(o.Intervals) == 0 && len(o.Phases) == 0 {
		return p
	}
	fr := frameOf(o)
	p.Timeline = timelineSVG(o, fr)
	for _, c := range charts(o) {
		p.Charts = append(p.Charts, renderedChart{c, c.SVG(fr)})
		if strings.HasPrefix(c.ID, "resource-") {
			p.Monitored = true
		}
	}
	return p
}

func verdictRows(o *runner.Outcome) []verdictRow {
	var rows []verdictRow
	for _, x := range expectations(o) {
		if c := x.Check; c != nil {
			rows = append(rows, verdictRow{Phase: x.Phase, Check: c.Name, Observed: checkObserved(*c), Result: checkResult(*c)})
			continue
		}
		r := x.Recovery.R
		rows = append(rows, verdictRow{
			Phase: x.Phase, Check: recoveryName(r), Observed: recoveryObserved(r),
			Result: recoveryResult(r), Detail: r.Detail,
		})
	}
	for _, v := range o.Verify {
		row := verdictRow{Phase: "verify", Check: verifyName(v), Observed: verifyObserved(v), Result: passFail(v.Passed)}
		row.Detail = strings.Join(verifyIDs(v), "; ")
		rows = append(rows, row)
	}
	return rows
}

// episodeRow is one line of the episodes table.
type episodeRow struct {
	Number                                          int
	Faults, Span, Figures, Recovery, Result, Merged string
	// Rotation is the rotation of the replicas its faults acted on.
	Rotation []string
}

// EpisodeRows are the lines of the episodes table.
func (p page) EpisodeRows() []episodeRow {
	var rows []episodeRow
	for _, e := range p.O.Episodes {
		rows = append(rows, episodeRow{
			Number: e.Number, Faults: episodeFaults(e), Span: episodeSpan(e), Figures: episodeFaultFigures(e),
			Recovery: episodeRecovery(e), Result: episodeResult(e), Merged: strings.Join(e.Merged, "; "),
		})
		for _, rr := range e.Rotation {
			rows[len(rows)-1].Rotation = append(rows[len(rows)-1].Rotation, "rotation "+rotationLine(rr))
		}
	}
	return rows
}

// CompareRows are the lines of the comparison with a baseline.
func (p page) CompareRows() []verdictRow {
	c := p.O.Comparison
	if c == nil {
		return nil
	}
	var rows []verdictRow
	for _, m := range c.Metrics {
		rows = append(rows, verdictRow{
			Check:    metricTitle(m),
			Observed: fmt.Sprintf("%s (baseline %s)", metricValue(m.Metric, m.Current), metricValue(m.Metric, m.Baseline)),
			Detail:   changeText(m), Result: comparisonResult(m),
		})
	}
	return rows
}

// CompareHeading introduces the comparison.
func (p page) CompareHeading() string { return comparisonHeading(p.O.Comparison) }

// ClassList renders the totals by class.
func (p page) ClassList() string { return classList(p.O.Totals.ByClass) }
