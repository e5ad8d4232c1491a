package report

import (
	"bytes"
	"html/template"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chaosload/chaosload/runner"
)

func renderHTML(t *testing.T, o *runner.Outcome) string {
	t.Helper()
	var b bytes.Buffer
	if err := HTML(&b, o); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestHTMLSelfContained: the page references nothing outside itself, so it
// opens offline and fetches nothing.
func TestHTMLSelfContained(t *testing.T) {
	t.Parallel()
	for _, o := range []*runner.Outcome{passedOutcome(), failedOutcome(), erroredOutcome(), inconclusiveOutcome(), lateEpisodesOutcome()} {
		page := renderHTML(t, o)
		// A URL in the text (a verify by HTTP names its target) or in an
		// SVG's xmlns loads nothing; one in a link or a form would.
		for _, bad := range []string{"<script", "<link", "<img", "<iframe", "src=", "url(", "@import", `href="http`, `href='http`, `action=`} {
			if strings.Contains(page, bad) {
				t.Errorf("%s: the report contains %q: it must not load anything", o.Verdict, bad)
			}
		}
		if strings.Contains(page, "ZgotmplZ") {
			t.Errorf("%s: html/template refused a value (ZgotmplZ)", o.Verdict)
		}
	}
}

var pathRE = regexp.MustCompile(`<path class="(line|area)" data-series="([^"]+)" data-points="(\d+)"`)

// chartPoints maps each chart's series to its number of drawn points.
func chartPoints(page string) map[string]map[string]int {
	out := map[string]map[string]int{}
	for _, svg := range strings.Split(page, `<svg class="chart" data-chart="`)[1:] {
		id := svg[:strings.IndexByte(svg, '"')]
		body := svg[:strings.Index(svg, "</svg>")]
		out[id] = map[string]int{}
		for _, m := range pathRE.FindAllStringSubmatch(body, -1) {
			n, _ := strconv.Atoi(m[3])
			out[id][m[2]] = n
		}
	}
	return out
}

// TestHTMLCharts: every chart draws each of its series from the intervals,
// the verdict table comes first, the fault windows are shaded and labelled
// in every chart, and the recovery point is marked with its time and bound.
func TestHTMLCharts(t *testing.T) {
	t.Parallel()
	o := passedOutcome()
	page := renderHTML(t, o)
	n := len(o.Intervals)
	want := map[string]map[string]int{
		"latency":    {"p50": n, "p95": n, "p99": n},
		"throughput": {"all ops/s": n, "ok ops/s": n},
		"errors":     {"http_503": 60, "timeout": 60}, // 20 s – 35 s at 0.25 s
		"load":       {"VUs": n, "busy VUs": n, "arrivals/s": n},
	}
	got := chartPoints(page)
	for chart, series := range want {
		for name, points := range series {
			if got[chart][name] != points {
				t.Errorf("chart %s series %s: %d points, want %d", chart, name, got[chart][name], points)
			}
		}
	}
	if strings.Index(page, `id="verdict"`) > strings.Index(page, `id="charts"`) {
		t.Errorf("the verdict table is not on top")
	}
	charts := strings.Count(page, `<svg class="chart"`)
	if charts != 4 {
		t.Errorf("%d charts, want 4 (no resource chart without monitoring)", charts)
	}
	for _, piece := range []struct{ what, text string }{
		{"a shaded fault window per chart", `<rect class="fault"`},
		{"a one-shot fault line per chart", `<line class="fault-shot"`},
		{"the fault's label per chart", `class="fault-label">pg-connections-exhausted</text>`},
		{"the recovery point per chart", `recovered +0.50s (bound 30.0s)`},
	} {
		if c := strings.Count(page, piece.text); c != charts {
			t.Errorf("%s: %q appears %d times, want %d", piece.what, piece.text, c, charts)
		}
	}
	if !strings.Contains(page, "not monitored in this run") {
		t.Errorf("no place for the target's resource use")
	}
}

// TestHTMLNotRecovered: the bound is marked as missed.
func TestHTMLNotRecovered(t *testing.T) {
	t.Parallel()
	page := renderHTML(t, failedOutcome())
	if !strings.Contains(page, "not recovered within 10.0s") || strings.Contains(page, `class="recovered"`) {
		t.Errorf("the missed recovery bound is not marked")
	}
	if !strings.Contains(page, `<tr class="FAIL"><td>fault #1</td><td>errors{class:http_5xx}: count == 0</td>`) {
		t.Errorf("the failed check is not a failed row of the verdict table")
	}
	if !strings.Contains(page, `id="baseline"`) || !strings.Contains(page, "60.0% worse") {
		t.Errorf("the baseline comparison is missing")
	}
}

// TestHTMLEpisodes: each episode is shaded on the timeline with its
// recovery point and bound, each chart marks each episode's recovery, the
// verdict table names the episode of every check, and the episodes table
// says why faults were merged.
func TestHTMLEpisodes(t *testing.T) {
	t.Parallel()
	page := renderHTML(t, episodesOutcome())
	charts := strings.Count(page, `<svg class="chart"`)
	for _, piece := range []struct {
		what, text string
		count      int
	}{
		{"the failed episode shaded", `<rect class="episode FAIL"`, 1},
		{"the passed episode shaded", `<rect class="episode pass"`, 1},
		{"a bound per episode on the timeline and in each chart", `<line class="bound"`, 2 * (charts + 1)},
		{"a recovery point per episode on the timeline and in each chart", `<line class="recovered"`, 2 * (charts + 1)},
		{"episode 1's recovery in each chart", `#1 recovered +2.00s (bound 30.0s)`, charts},
		{"episode 2's recovery in each chart", `#2 recovered +0.50s (bound 10.0s)`, charts},
		{"the failed check of episode 1", `<tr class="FAIL"><td>fault #1</td><td>errors: rate &lt; 60%</td>`, 1},
		{"episode 2's recovery row", `<td>recovery #2</td><td>back to steady state within 10.0s`, 1},
		{"the gap of the cascade on the timeline", `<rect class="phase phase-gap"`, 1},
		{"why the cascade is one episode", `form one episode: &#34;pg-reset&#34; starts 8s after &#34;redis-slow&#34; ends`, 1},
	} {
		if c := strings.Count(page, piece.text); c != piece.count {
			t.Errorf("%s: %q appears %d times, want %d", piece.what, piece.text, c, piece.count)
		}
	}
	if !strings.Contains(page, `id="episodes"`) {
		t.Errorf("no episodes table")
	}
}

// TestHTMLLateEpisodes: an episode whose check or recovery the generator's
// own lateness decides is shaded as inconclusive on the timeline, its rows
// say inconclusive with the episode, and the badge and the notes state the
// run's outcome with each episode named.
func TestHTMLLateEpisodes(t *testing.T) {
	t.Parallel()
	page := renderHTML(t, lateEpisodesOutcome())
	for _, piece := range []struct {
		what, text string
		count      int
	}{
		{"the badge", `<span class="verdict inconclusive">INCONCLUSIVE</span>`, 1},
		{"both episodes shaded as inconclusive", `<rect class="episode inconclusive"`, 2},
		{"episode 1's flipped fault check", `<tr class="inconclusive"><td>fault #1</td><td>latency: p(95) &lt; 50ms</td>`, 1},
		{"episode 2's flipped recovery", `<tr class="inconclusive"><td>recovery #2</td><td>back to steady state within 10.0s`, 1},
		{"episode 2's held fault check", `<tr class="pass"><td>fault #2</td><td>latency: p(95) &lt; 50ms</td>`, 1},
		{"the notes name each by its episode", `<li class="warning">decided by the load generator: fault #1 latency`, 1},
		{"the notes name each by its episode", `<li class="warning">decided by the load generator: recovery #2 within 10s`, 1},
		{"offered load by episode", `fault #2 shoppers 1996/2000`, 1},
	} {
		if c := strings.Count(page, piece.text); c != piece.count {
			t.Errorf("%s: %q appears %d times, want %d", piece.what, piece.text, c, piece.count)
		}
	}
}

// TestHTMLResources: a monitored target's gauges get a chart each.
func TestHTMLResources(t *testing.T) {
	t.Parallel()
	o := passedOutcome()
	for i := range o.Intervals {
		o.Intervals[i].Resources = map[string]float64{"target_cpu": 30 + float64(i%40), "target_rss": 50 << 20}
	}
	got := chartPoints(renderHTML(t, o))
	if got["resource-target_cpu"]["target_cpu"] != len(o.Intervals) || got["resource-target_rss"]["target_rss"] != len(o.Intervals) {
		t.Fatalf("resource charts: %v", got)
	}
}

// TestHTMLLongRun: a long run is merged to at most maxPoints points per
// series, and a one-interval latency spike survives the merge.
func TestHTMLLongRun(t *testing.T) {
	t.Parallel()
	o := passedOutcome()
	o.Intervals = syntheticIntervals(3600, 0.25, 1000, 1100) // an hour: 14,400 intervals
	o.DurationS = 3600
	o.Intervals[7777].P99MS = 4321
	page := renderHTML(t, o)
	got := chartPoints(page)
	if p := got["latency"]["p99"]; p == 0 || p > maxPoints {
		t.Fatalf("p99 has %d points, want 1..%d", p, maxPoints)
	}
	bs := buckets(o)
	var peak float64
	for _, b := range bs {
		peak = max(peak, b.P99MS)
	}
	if len(bs) > maxPoints || peak != 4321 {
		t.Fatalf("%d buckets, peak p99 %v; want ≤ %d and the 4321ms spike kept", len(bs), peak, maxPoints)
	}
}

// TestHTMLNoData: a run that measured nothing still renders, saying so.
func TestHTMLNoData(t *testing.T) {
	t.Parallel()
	page := renderHTML(t, erroredOutcome())
	if !strings.Contains(page, "No data was recorded.") || strings.Contains(page, `<svg class="chart"`) {
		t.Errorf("no-data page draws charts or lacks the note")
	}
	if !strings.Contains(page, "unreachable") {
		t.Errorf("the error is not shown")
	}
}

// TestHTMLReplicas: a target of several replicas gets a chart of each
// replica's share of its work, the fault window shaded; the faults table
// names the replicas a fault acted on and the episodes table their
// rotation.
func TestHTMLReplicas(t *testing.T) {
	t.Parallel()
	o := replicasOutcome()
	page := renderHTML(t, o)
	got := chartPoints(page)["share-api"]
	// a sample every 0.5 s for 30 s; api[1]'s area leaves out the 18 in
	// which it had no share
	for name, points := range map[string]int{"api[0]": 60, "api[1]": 42, "api[2]": 60} {
		if got[name] != points {
			t.Errorf("share chart: series %s has %d points, want %d", name, got[name], points)
		}
	}
	if !strings.Contains(page, `class="fault-label">api-1-fails</text>`) {
		t.Errorf("the fault window is not labelled")
	}
	for _, piece := range []string{
		"fault api-1-fails → api[1] 127.0.0.1:41002 (select one, seed 7)",
		"rotation api[1]: out 1.50s, back 0.75s, reached 12 (fault api-1-fails)",
	} {
		if !strings.Contains(page, template.HTMLEscapeString(piece)) {
			t.Errorf("the page lacks %q", piece)
		}
	}
}
