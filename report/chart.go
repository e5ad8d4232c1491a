package report

import (
	"fmt"
	"html/template"
	"math"
	"strings"
)

// chart is one time-series chart of the HTML report, drawn as inline SVG
// (no script runs in the report): the series over a shared time axis, with
// the fault windows shaded and labelled and the recovery point and bound
// marked.
//
//	  fault label(s)          recovered +0.2s   bound
//	┌──────────────┬░░░░░░░░░░░┬──┊──────────────┊──┐ ← top margin: labels
//	│ y ticks      │░ fault  ░░│  ┊              ┊  │
//	│    ╱╲___╱╲___│░░░╱╲░░░░░░│__┊______________┊__│ ← series
//	└──────────────┴░░░░░░░░░░░┴──┊──────────────┊──┘
//	 0s        10s        20s        30s        40s   ← x ticks
type chart struct {
	// ID names the chart in the page (data-chart) and in tests.
	ID, Title string
	// Unit says what the y axis measures; Format labels its ticks.
	Unit   string
	Format func(float64) string
	// X holds each point's time (seconds); every series has one Y per X,
	// NaN where there is no data (a gap, not a zero).
	X      []float64
	Series []series
	// Stacked draws the series as areas on top of each other (errors by
	// class); otherwise they are lines.
	Stacked bool
	// Empty is shown instead of the plot when no series has data.
	Empty string
}

// series is one named line or area of a chart.
type series struct {
	Name, Color string
	Y           []float64
}

// The chart geometry, in view-box units.
const (
	chartW, chartH                     = 960.0, 230.0
	marginL, marginR, marginT, marginB = 62.0, 14.0, 34.0, 24.0
)

// frame is what every chart of one report shares: the time axis and the
// marks laid over the data (a recovery mark per episode).
type frame struct {
	From, To   float64
	Faults     []faultBand
	Recoveries []recoveryMark
}

// faultBand is the time one fault was in effect; a one-shot fault has
// From == To and is drawn as a line.
type faultBand struct {
	Name       string
	From, To   float64
	Unreverted bool
}

// recoveryMark is where the service was back at steady state after an
// episode (At, nil when it was not within the bound) and where the bound
// ended.
type recoveryMark struct {
	FaultEnd, Bound  float64
	At               *float64
	Measured, Within float64
	// Late is set when the service recovered, but after the bound.
	Late bool
	// Label precedes the mark's words: the episode ("#2 ") when a run
	// has several.
	Label string
}

// Legend is what the page shows above a chart: each series' name and colour.
func (c *chart) Legend() []series { return c.Series }

// SVG renders the chart over fr.
func (c *chart) SVG(fr frame) template.HTML {
	var s svgWriter
	s.printf(`<svg class="chart" data-chart="%s" viewBox="0 0 %s %s" role="img" aria-label="%s">`,
		esc(c.ID), f(chartW), f(chartH), esc(c.Title))
	x := linear{fr.From, fr.To, marginL, chartW - marginR}
	s.printf(`<rect class="plot" x="%s" y="%s" width="%s" height="%s"/>`,
		f(marginL), f(marginT), f(chartW-marginL-marginR), f(chartH-marginT-marginB))
	hi := c.maxY()
	if hi < 0 {
		drawFrame(&s, fr, x)
		s.text(chartW/2, (marginT+chartH-marginB)/2, "middle", "empty", c.Empty)
		drawMarks(&s, fr, x)
		s.printf(`</svg>`)
		return s.html()
	}
	ticks := yTicks(hi, 4)
	y := linear{0, ticks[len(ticks)-1], chartH - marginB, marginT}
	c.drawYAxis(&s, ticks, y)
	drawFrame(&s, fr, x)
	if c.Stacked {
		c.drawAreas(&s, x, y)
	} else {
		c.drawLines(&s, x, y)
	}
	drawMarks(&s, fr, x)
	s.printf(`</svg>`)
	return s.html()
}

// maxY is the highest value drawn (of the stacked sums when stacked); -1
// when no series has a point.
func (c *chart) maxY() float64 {
	hi := -1.0
	for i := range c.X {
		sum := 0.0
		for _, sr := range c.Series {
			v := sr.Y[i]
			if math.IsNaN(v) {
				continue
			}
			if c.Stacked {
				sum += v
				v = sum
			}
			hi = max(hi, v)
		}
	}
	if c.Stacked && hi == 0 {
		return -1 // nothing stacked up: say so instead of a flat line
	}
	return hi
}

func (c *chart) drawYAxis(s *svgWriter, ticks []float64, y linear) {
	for _, t := range ticks {
		py := y.at(t)
		s.printf(`<line class="grid" x1="%s" x2="%s" y1="%s" y2="%s"/>`, f(marginL), f(chartW-marginR), f(py), f(py))
		s.text(marginL-6, py+4, "end", "tick", c.Format(t))
	}
	s.text(4, marginT-20, "start", "unit", c.Unit)
}

// drawFrame draws the x axis and the fault bands under the data.
func drawFrame(s *svgWriter, fr frame, x linear) {
	drawXAxis(s, fr, x, chartH-marginB)
	for i, b := range fr.Faults {
		x0, x1 := x.at(b.From), x.at(b.To)
		label := b.Name
		if b.From == b.To {
			s.printf(`<line class="fault-shot" x1="%s" x2="%s" y1="%s" y2="%s"/>`, f(x0), f(x0), f(marginT), f(chartH-marginB))
		} else {
			s.printf(`<rect class="fault" x="%s" y="%s" width="%s" height="%s"><title>%s</title></rect>`,
				f(x0), f(marginT), f(max(x1-x0, 1)), f(chartH-marginT-marginB), esc(b.Name))
		}
		if b.Unreverted {
			label += " (not reverted)"
		}
		s.text(x0+2, marginT-4-float64(i%2)*12, "start", "fault-label", label)
	}
}

// drawMarks draws each episode's recovery point and bound over the data.
func drawMarks(s *svgWriter, fr frame, x linear) {
	for i, r := range fr.Recoveries {
		drawMark(s, fr, x, r, float64(i%2)*12)
	}
}

// drawMark draws one recovery point and bound, its labels dy lower (so the
// labels of consecutive episodes do not overlap).
func drawMark(s *svgWriter, fr frame, x linear, r recoveryMark, dy float64) {
	top, bottom := marginT, chartH-marginB
	bx, boundLabel := x.at(r.Bound), r.Label+"bound +"+secs(r.Within)
	if r.Bound > fr.To { // the run ended before the bound: point at it
		bx, boundLabel = x.at(fr.To), boundLabel+" (after the end) →"
	} else {
		s.printf(`<line class="bound" x1="%s" x2="%s" y1="%s" y2="%s"/>`, f(bx), f(bx), f(top), f(bottom))
	}
	if r.At == nil {
		s.text(bx-3, top+12+dy, "end", "bound-label bad", r.Label+"not recovered within "+secs(r.Within))
		return
	}
	s.text(bx-3, bottom-6-dy, "end", "bound-label", boundLabel)
	rx := x.at(min(*r.At, fr.To))
	late, label := "", fmt.Sprintf("%srecovered +%s (bound %s)", r.Label, secs(r.Measured), secs(r.Within))
	if r.Late {
		late, label = " late", fmt.Sprintf("%srecovered late: +%s (bound %s)", r.Label, secs(r.Measured), secs(r.Within))
	}
	s.printf(`<line class="recovered%s" x1="%s" x2="%s" y1="%s" y2="%s"/>`, late, f(rx), f(rx), f(top), f(bottom))
	s.text(rx+3, top+12+dy, "start", "recovered-label"+late, label)
}

// drawLines draws each series as a polyline, broken where it has no data.
func (c *chart) drawLines(s *svgWriter, x, y linear) {
	for _, sr := range c.Series {
		var d strings.Builder
		n, pen := 0, false
		for i, v := range sr.Y {
			if math.IsNaN(v) {
				pen = false
				continue
			}
			cmd := "L"
			if !pen {
				cmd = "M"
			}
			fmt.Fprintf(&d, "%s%s,%s", cmd, f(x.at(c.X[i])), f(y.at(v)))
			pen = true
			n++
		}
		s.printf(`<path class="line" data-series="%s" data-points="%d" stroke="%s" d="%s"/>`, esc(sr.Name), n, sr.Color, d.String())
	}
}

// drawAreas stacks the series bottom-up: each is the band between the sum
// of those below it and that sum plus its own values (NaN counts as 0).
func (c *chart) drawAreas(s *svgWriter, x, y linear) {
	base := make([]float64, len(c.X))
	for _, sr := range c.Series {
		top := make([]float64, len(c.X))
		n := 0
		for i, v := range sr.Y {
			if math.IsNaN(v) {
				v = 0
			}
			if v > 0 {
				n++
			}
			top[i] = base[i] + v
		}
		var d strings.Builder
		for i := range c.X {
			fmt.Fprintf(&d, "%s%s,%s", map[bool]string{true: "M", false: "L"}[i == 0], f(x.at(c.X[i])), f(y.at(top[i])))
		}
		for i := len(c.X) - 1; i >= 0; i-- {
			fmt.Fprintf(&d, "L%s,%s", f(x.at(c.X[i])), f(y.at(base[i])))
		}
		s.printf(`<path class="area" data-series="%s" data-points="%d" fill="%s" d="%sZ"/>`, esc(sr.Name), n, sr.Color, d.String())
		base = top
	}
}
