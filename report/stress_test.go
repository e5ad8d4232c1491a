package report

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/chaosload/chaosload/runner"
)

// stressOutcome is a stress run that held at 100 and 150 VUs and broke at
// 200 on p95, then recovered at 100 VUs, with the stack monitored and one
// probe.
func stressOutcome() *runner.Outcome {
	o := passedOutcome()
	o.Stress = &runner.StressResult{Unit: "vus", From: 100, Step: 50, To: 300, EveryS: 30, SettleS: 5,
		Capacity: f64(150), BreakingPoint: f64(200), RecoverAt: f64(100),
		BrokenBy:       []string{"latency: p(95) < 100ms (p95 = 340ms)"},
		OperatingPoint: &runner.OperatingPoint{Level: 120, P95MS: f64(12), MeasuredAt: f64(100)},
		Levels: []runner.StressLevel{
			{Level: 100, Passed: true, Ops: 3000, OKPerS: 120, P50MS: 5, P95MS: 12, P99MS: 20, CPUMax: f64(40), RSSMax: f64(120e6)},
			{Level: 150, Passed: true, Ops: 4000, OKPerS: 160, P50MS: 9, P95MS: 60, P99MS: 90},
			{Level: 200, Ops: 4200, Errors: 42, OKPerS: 165, P50MS: 80, P95MS: 340, P99MS: 900},
		}}
	o.Resources = &runner.Resources{Roles: map[string]int{"postgres": 10, "service": 20}, PIDs: []int{10, 20},
		Samples: 90, CPUPeak: 85, RSSPeak: 412e6, RSSSlope: f64(1.2e6)}
	o.Probes = []runner.ProbeResult{{Name: "health", Kind: "http", Target: "http://x/healthz", Attempts: 90, OK: 89, OKRate: 89.0 / 90, P50MS: 1, P95MS: 3}}
	return o
}

// TestStressText: the degradation curve is a table with a row per level,
// followed by capacity, breaking point (with the failing check), operating
// point and recovery after overload; resources and probes follow.
func TestStressText(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := Text(&b, stressOutcome()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"Stress: VUs 100 → 300 by 50", "LEVEL", "200 ", "340ms", "1.00%",
		"Capacity: 150 VUs", "Breaking point: 200 VUs — latency: p(95) < 100ms (p95 = 340ms)",
		"Operating point: 120 VUs (80% of capacity), p95 12.0ms measured at 100 VUs",
		"After overload, back at 100 VUs", "CPU peak 85% of one core, RSS peak", "postgres 10", "Probes", "health",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}

// TestStressUndecidedBreakingPoint: a level that broke only through the
// generator's own lateness is shown as inconclusive, and the breaking point
// as undecided.
func TestStressUndecidedBreakingPoint(t *testing.T) {
	t.Parallel()
	o := stressOutcome()
	o.Stress.Levels[2].Inconclusive = true
	var b bytes.Buffer
	if err := Text(&b, o); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"inconclusive\n", "Breaking point: undecided at 200 VUs — only the generator's own lateness broke latency: p(95) < 100ms (p95 = 340ms)"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, b.String())
		}
	}
}

// TestStressMarkdownAndHTML: Markdown has the curve as a table; HTML draws
// it (p50, p95, p99 and throughput lines, the breaking point marked) and
// tabulates it.
func TestStressMarkdownAndHTML(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := Markdown(&b, stressOutcome()); err != nil {
		t.Fatal(err)
	}
	if md := b.String(); !strings.Contains(md, "| 200 | 165.0/s | 80.0ms | 340ms | 900ms | 1.00% |") || !strings.Contains(md, "- Capacity: 150 VUs") {
		t.Errorf("markdown:\n%s", md)
	}
	page := renderHTML(t, stressOutcome())
	i := strings.Index(page, `data-chart="stress"`)
	if i < 0 {
		t.Fatal("no degradation chart")
	}
	chart := page[i:]
	chart = chart[:strings.Index(chart, "</svg>")]
	if n := strings.Count(chart, "<polyline"); n != 4 || !strings.Contains(chart, "breaking point 200") {
		t.Errorf("chart has %d lines, want 4 and the breaking point marked:\n%s", n, chart)
	}
	if !strings.Contains(page, "<td>150</td>") {
		t.Error("no curve table")
	}
}

// TestStressJUnit: the findings are properties of the experiment's
// testsuite.
func TestStressJUnit(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := JUnit(&b, stressOutcome()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`name="capacity" value="150"`, `name="breaking_point" value="200"`, `name="operating_point" value="120"`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("junit lacks %s:\n%s", want, b.String())
		}
	}
}

// TestStressPhasesColoured: every phase of a stress run's timeline (each
// level, and the recovery after overload) has a class the stylesheet
// colours, so no phase is drawn in the SVG default, black.
func TestStressPhasesColoured(t *testing.T) {
	t.Parallel()
	o := stressOutcome()
	o.Phases = []runner.Phase{{Name: "warm-up", EndS: 5}, {Name: "level 100", StartS: 5, EndS: 35},
		{Name: "level 150", StartS: 35, EndS: 65}, {Name: "level 200", StartS: 65, EndS: 95},
		{Name: "after overload", StartS: 95, EndS: 125}}
	page := renderHTML(t, o)
	rects := regexp.MustCompile(`<rect class="phase ([^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(rects) != len(o.Phases) {
		t.Fatalf("%d phase rects, want %d", len(rects), len(o.Phases))
	}
	var classes []string
	for _, r := range rects {
		classes = append(classes, r[1])
		for _, c := range strings.Fields(r[1]) {
			if !regexp.MustCompile(`svg \.` + regexp.QuoteMeta(c) + ` \{ fill: #[0-9a-f]{6}; \}`).MatchString(page) {
				t.Errorf("phase class %q has no fill in the stylesheet", c)
			}
		}
	}
	if classes[1] == classes[2] || classes[1] != classes[3] {
		t.Errorf("levels should alternate two shades: %q", classes)
	}
}
