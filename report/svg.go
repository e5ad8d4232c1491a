package report

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// svgWriter builds an SVG document as text. Every attribute value and text
// node that could hold user data goes through esc; numbers are formatted
// with one decimal, enough for a 960-unit-wide view box.
type svgWriter struct{ b strings.Builder }

func (s *svgWriter) printf(format string, a ...any) { fmt.Fprintf(&s.b, format, a...) }

// html returns the document for html/template, which must not escape it
// again: every piece was escaped as it was written.
func (s *svgWriter) html() template.HTML { return template.HTML(s.b.String()) } //nolint:gosec // escaped above

func esc(s string) string { return template.HTMLEscapeString(s) }

// f formats a coordinate.
func f(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// text writes a label; class picks its style from the page's CSS.
func (s *svgWriter) text(x, y float64, anchor, class, label string) {
	s.printf(`<text x="%s" y="%s" text-anchor="%s" class="%s">%s</text>`, f(x), f(y), anchor, class, esc(label))
}

// linear maps a value range onto a pixel range.
type linear struct{ d0, d1, r0, r1 float64 }

func (l linear) at(v float64) float64 {
	if l.d1 == l.d0 {
		return l.r0
	}
	return l.r0 + (v-l.d0)/(l.d1-l.d0)*(l.r1-l.r0)
}

// niceStep returns a step of 1, 2 or 5 times a power of ten close to raw.
func niceStep(raw float64) float64 {
	if raw <= 0 || math.IsNaN(raw) || math.IsInf(raw, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// yTicks returns ticks from 0 to the first tick at or above hi, about n of
// them.
func yTicks(hi float64, n int) []float64 {
	if hi <= 0 || math.IsNaN(hi) {
		hi = 1
	}
	step := niceStep(hi / float64(n))
	var ticks []float64
	for v := 0.0; ; v += step {
		ticks = append(ticks, v)
		if v >= hi*(1-1e-9) {
			return ticks
		}
	}
}

// timeStep picks an x tick step in seconds that gives at most ~10 ticks
// over span.
func timeStep(span float64) float64 {
	for _, s := range []float64{0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200} {
		if span/s <= 10 {
			return s
		}
	}
	return 3600 * math.Ceil(span/36000)
}

// clock formats a time offset for an axis: "45s", "2m", "1m30s", "1h5m".
func clock(t float64) string {
	switch {
	case t < 60:
		return strconv.FormatFloat(t, 'f', -1, 64) + "s"
	case t < 3600:
		m, s := int(t)/60, int(t)%60
		if s == 0 {
			return fmt.Sprintf("%dm", m)
		}
		return fmt.Sprintf("%dm%ds", m, s)
	}
	h, m := int(t)/3600, int(t)%3600/60
	if m == 0 {
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dh%dm", h, m)
}

// Unit formats for axis labels.
func fmtCount(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', -1, 64) + "M"
	case v >= 1e3:
		return strconv.FormatFloat(v/1e3, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func fmtAxisMS(v float64) string {
	if v >= 1000 {
		return strconv.FormatFloat(v/1000, 'f', -1, 64) + "s"
	}
	return strconv.FormatFloat(v, 'f', -1, 64) + "ms"
}

func fmtRate(v float64) string { return fmtCount(v) + "/s" }

func fmtPercent(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + "%" }

func fmtBytes(v float64) string {
	units := []string{"B", "KB", "MB", "GB", "TB"}
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) + " " + units[i]
}
