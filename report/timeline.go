package report

import (
	"fmt"
	"html/template"
	"math"
	"strings"

	"github.com/chaosload/chaosload/runner"
)

// timelineSVG draws the run's phases, fault episodes and faults on the
// charts' time axis; each episode is shaded from its first apply to its last
// revert, with its recovery point (│) and bound (┆):
//
//	phases   │warm-up│ baseline │░fault #1░│rec│ steady #1 │
//	episodes │       │          │▒▒▒ 1 ▒▒▒▒│  │      ┆    │
//	fault A  │       │          │██████████│   │           │
//	fault B  │       │          ┃          │   │           │   (one-shot)
func timelineSVG(o *runner.Outcome, fr frame) template.HTML {
	const row, top = 20.0, 4.0
	rows := 1 + len(o.Faults)
	if len(o.Episodes) > 0 {
		rows++
	}
	h := top + row*float64(rows) + marginB
	var s svgWriter
	s.printf(`<svg class="timeline" data-chart="timeline" viewBox="0 0 %s %s" role="img" aria-label="phases and faults">`, f(chartW), f(h))
	x := linear{fr.From, fr.To, marginL, chartW - marginR}
	s.text(marginL-6, top+14, "end", "tick", "phases")
	levels := 0
	for _, p := range o.Phases {
		x0, x1 := x.at(p.StartS), x.at(p.EndS)
		class := phaseClass(p.Name)
		if class == "phase-level" { // a stress level: alternate two shades
			if levels%2 == 1 {
				class += " phase-level-odd"
			}
			levels++
		}
		name := phaseLabel(p.Name, p.Episode)
		s.printf(`<rect class="phase %s" x="%s" y="%s" width="%s" height="%s"><title>%s %s – %s</title></rect>`,
			class, f(x0), f(top), f(math.Max(x1-x0, 1)), f(row-4), esc(name), secs(p.StartS), secs(p.EndS))
		if x1-x0 > float64(len(name))*6.5 {
			s.text((x0+x1)/2, top+12, "middle", "phase-label", name)
		}
	}
	first := 1
	if len(o.Episodes) > 0 {
		drawEpisodes(&s, o, x, top+row, row)
		first++
	}
	for i, ft := range o.Faults {
		y := top + row*float64(i+first)
		s.text(marginL-6, y+12, "end", "tick", "fault")
		if ft.AppliedS == nil {
			s.text(marginL+4, y+12, "start", "fault-label", ft.Name+" not applied: "+ft.Error)
			continue
		}
		x0, x1 := x.at(*ft.AppliedS), x.at(fr.To)
		if ft.RevertedS != nil {
			x1 = x.at(*ft.RevertedS)
		}
		s.printf(`<rect class="fault-bar" x="%s" y="%s" width="%s" height="%s"><title>%s (%s on %s)</title></rect>`,
			f(x0), f(y), f(math.Max(x1-x0, 2)), f(row-6), esc(ft.Name), esc(ft.Kind), esc(ft.Target))
		label := fmt.Sprintf("%s (%s on %s)", ft.Name, ft.Kind, ft.Target)
		if x1 > chartW*0.6 { // no room on the right: label to the left of the bar
			s.text(x0-4, y+11, "end", "fault-label", label)
		} else {
			s.text(x1+4, y+11, "start", "fault-label", label)
		}
	}
	drawXAxis(&s, fr, x, h-marginB)
	s.printf(`</svg>`)
	return s.html()
}

// drawEpisodes draws the episodes' row at y: each episode shaded from its
// first apply to its last revert, its recovery point and its bound.
func drawEpisodes(s *svgWriter, o *runner.Outcome, x linear, y, row float64) {
	s.text(marginL-6, y+12, "end", "tick", "episodes")
	for _, e := range o.Episodes {
		x0, x1 := x.at(e.StartS), x.at(e.EndS)
		s.printf(`<rect class="episode %s" x="%s" y="%s" width="%s" height="%s"><title>episode %d: %s, %s; %s</title></rect>`,
			episodeResult(e), f(x0), f(y), f(math.Max(x1-x0, 2)), f(row-6), e.Number, esc(episodeFaults(e)), esc(episodeSpan(e)), esc(episodeRecovery(e)))
		s.text(x0+3, y+11, "start", "fault-label", fmt.Sprintf("#%d", e.Number))
		r := e.Recovery
		if r == nil {
			continue
		}
		bx := x.at(math.Min(r.FaultEndS+r.WithinS, x.d1))
		s.printf(`<line class="bound" x1="%s" x2="%s" y1="%s" y2="%s"/>`, f(bx), f(bx), f(y-2), f(y+row-4))
		if r.MeasuredS != nil {
			late := ""
			if !r.Passed {
				late = " late"
			}
			rx := x.at(math.Min(r.FaultEndS+*r.MeasuredS, x.d1))
			s.printf(`<line class="recovered%s" x1="%s" x2="%s" y1="%s" y2="%s"/>`, late, f(rx), f(rx), f(y-2), f(y+row-4))
		}
	}
}

// phaseClass is the CSS class of a phase: phase-NAME with spaces as
// dashes, and phase-level for every stress level ("level 150").
func phaseClass(name string) string {
	if strings.HasPrefix(name, "level ") {
		return "phase-level"
	}
	var b strings.Builder
	b.WriteString("phase-")
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}

// drawXAxis draws time ticks along the line at y.
func drawXAxis(s *svgWriter, fr frame, x linear, y float64) {
	step := timeStep(fr.To - fr.From)
	s.printf(`<line class="axis" x1="%s" x2="%s" y1="%s" y2="%s"/>`, f(marginL), f(chartW-marginR), f(y), f(y))
	for t := math.Ceil(fr.From/step) * step; t <= fr.To+1e-9; t += step {
		px := x.at(t)
		s.printf(`<line class="xtick" x1="%s" x2="%s" y1="%s" y2="%s"/>`, f(px), f(px), f(y), f(y+4))
		s.text(px, y+18, "middle", "tick", clock(t))
	}
}
