package main

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chaosload/chaosload/report"
	"github.com/chaosload/chaosload/runner"
)

// reportsExperiment: 12 s at 100/s through a proxy to a server that answers
// one request in 20 with a 503; a 250 ms latency fault from 3 s to 6 s.
// Every expectation holds: it is the baseline comparison that fails it. The
// steady-state latency bound (p(95) < 1s) is far above what a loopback
// request to an empty handler costs on any machine, busy or not: only a
// defect fails it.
const reportsExperiment = `version: 1
name: reports-e2e
targets:
  api: {upstream: "%s", protocol: http}
scenarios:
  users:
    executor: constant-arrival-rate
    rate: 100
    duration: 12s
    preAllocatedVUs: 20
    maxVUs: 100
    steps:
      - name: get
        http: {url: "http://${targets.api}/"}
warmup: 1s
thresholds:
  latency: ["p(95) < 1s"]
  errors: ["rate < 20%%"]
faults:
  - name: slow
    target: api
    kind: latency
    latency: 250ms
    startTime: 3s
    duration: 3s
degradation:
  latency: ["p(99) < 2s"]
recovery: {within: 3s, hold: 1s, window: 1s}
`

// sheddingServer answers every 20th request with a 503.
func sheddingServer(t *testing.T) string {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%20 == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// impossibleBaseline is a saved run far better than any real one: 10 µs
// p95 and 10,000 ok ops/s in every phase, instant recovery.
func impossibleBaseline(t *testing.T, path string) {
	t.Helper()
	base := &runner.Outcome{SchemaVersion: runner.SchemaVersion, Experiment: "reports-e2e", Verdict: runner.Passed,
		Passed: true, IntervalS: 0.25, Recovery: &runner.Recovery{MeasuredS: new(float64), WithinS: 3, Passed: true}}
	for _, name := range []string{"baseline", "fault", "recovery", "steady"} {
		base.Phases = append(base.Phases, runner.Phase{Name: name, Ops: 1000, P95MS: 0.01, OKPerS: 10000})
	}
	if err := report.WriteFile(path, base, report.JSON); err != nil {
		t.Fatal(err)
	}
}

// TestRunWritesEveryReport runs an experiment with every output at once:
// JSON, JUnit, Markdown (and GitHub's step summary), HTML and --out DIR,
// compared with a baseline it cannot match. The run's own expectations all
// hold, the regression fails the gate (exit 1), and the comparison is in
// every output. Progress went to stdout.
func TestRunWritesEveryReport(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "e2e.yaml")
	if err := os.WriteFile(file, []byte(fmt.Sprintf(reportsExperiment, sheddingServer(t))), 0o644); err != nil {
		t.Fatal(err)
	}
	summary := filepath.Join(dir, "step-summary.md")
	if err := os.WriteFile(summary, []byte("# earlier step\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(dir, "base.json")
	impossibleBaseline(t, base)
	p := func(name string) string { return filepath.Join(dir, name) }
	r := chaosload(t, []string{"GITHUB_STEP_SUMMARY=" + summary}, "run", file,
		"--json", p("r.json"), "--junit", p("r.xml"), "--markdown", p("r.md"), "--html", p("r.html"),
		"--out", p("all"), "--baseline", base, "--max-regression", "10%")
	r.out = readOutcome(t, p("r.json"))
	r.expect(t, exitFailed, runner.Failed) // the regression against the baseline
	stdout := r.stdout
	checkRunOutcome(t, r.out)
	for _, f := range []string{"r.xml", "all/junit.xml"} {
		checkJUnitFile(t, p(f))
	}
	for file, piece := range map[string]string{
		"r.md": "### Baseline", "all/reports-e2e.md": "### Baseline", "step-summary.md": "### Baseline",
		"r.html": `id="baseline"`, "all/reports-e2e.html": `<svg class="chart" data-chart="latency"`,
		"all/reports-e2e.json": `"comparison"`,
	} {
		data, err := os.ReadFile(p(file))
		if err != nil || !strings.Contains(string(data), piece) {
			t.Errorf("%s: %v; want it to contain %q", file, err, piece)
		}
	}
	if data, _ := os.ReadFile(summary); !strings.HasPrefix(string(data), "# earlier step\n## ") {
		t.Errorf("the step summary was not appended to: %.80q", data)
	}
	for _, piece := range []string{"chaosload: running reports-e2e", "fault applied: slow", "fault reverted: slow",
		"faults: none", "ops/s", "Baseline: compared with", "Verdict: FAILED"} {
		if !strings.Contains(stdout, piece) {
			t.Errorf("stdout lacks %q:\n%s", piece, stdout)
		}
	}
}

func readOutcome(t *testing.T, path string) *runner.Outcome {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out runner.Outcome
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

// checkRunOutcome: every expectation of the run held, only the comparison
// failed it; the Outcome carries what the charts and baselines need.
func checkRunOutcome(t *testing.T, out *runner.Outcome) {
	t.Helper()
	if out.Verdict != runner.Failed || out.Comparison == nil || out.Comparison.Passed {
		t.Fatalf("verdict %s, comparison %+v; want failed by the comparison", out.Verdict, out.Comparison)
	}
	for _, c := range out.Checks {
		if !c.Passed && !c.Skipped {
			t.Errorf("check %s %s failed (%s): the run itself should pass", c.Phase, c.Name, c.Observed)
		}
	}
	if out.Recovery == nil || !out.Recovery.Passed {
		t.Errorf("recovery %+v, want passed", out.Recovery)
	}
	var vus, arrivals, shed int64
	for _, iv := range out.Intervals {
		vus, arrivals, shed = max(vus, iv.VUs), arrivals+iv.Arrivals, shed+iv.ByClass["http_503"]
	}
	if vus == 0 || arrivals < 1000 || shed == 0 || shed != out.Totals.ByClass["http_503"] {
		t.Errorf("intervals: max VUs %d, %d arrivals, %d 503s (totals %d); want VUs, ~1200 arrivals, the 503s by class",
			vus, arrivals, shed, out.Totals.ByClass["http_503"])
	}
	for _, ph := range out.Phases {
		if ph.Name == "warm-up" || ph.Name == "recovery" {
			continue
		}
		if ph.Ops == 0 || ph.P95MS <= 0 || ph.OKPerS < 50 || ph.OKPerS > 110 {
			t.Errorf("phase %+v: want ops, a p95 and ~95 ok ops/s", ph)
		}
		if ph.Name == "fault" && ph.P95MS < 250 {
			t.Errorf("fault phase p95 %.1fms, want ≥ 250ms (the injected latency)", ph.P95MS)
		}
	}
}

// checkJUnitFile parses a JUnit file and finds the failed comparison in it.
func checkJUnitFile(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Suites []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Classname string `xml:"classname,attr"`
				Failure   *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil || len(doc.Suites) != 1 || doc.Suites[0].Name != "reports-e2e" {
		t.Fatalf("%s: %v %+v", path, err, doc)
	}
	for _, c := range doc.Suites[0].Cases {
		if c.Classname == "reports-e2e.baseline" && c.Failure != nil && strings.Contains(c.Failure.Message, "vs baseline") {
			return
		}
	}
	t.Errorf("%s: no failed baseline testcase", path)
}

// savedResult writes a small passed result, as run --json would.
func savedResult(t *testing.T, dir string, p95 float64) string {
	t.Helper()
	out := &runner.Outcome{
		SchemaVersion: runner.SchemaVersion, Experiment: "saved", Verdict: runner.Passed, Passed: true, Seed: 3,
		StartedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), DurationS: 30, IntervalS: 0.25,
		Phases: []runner.Phase{{Name: "baseline", StartS: 0, EndS: 30, Ops: 3000, OKPerS: 100, P95MS: p95}},
		Checks: []runner.Check{{Name: "latency: p(95) < 100ms", Phase: "baseline", Expression: "p(95) < 100ms", Observed: "p95 = 2ms", Passed: true}},
	}
	for i := range 120 {
		out.Intervals = append(out.Intervals, runner.Interval{TS: float64(i) * 0.25, Ops: 25, P50MS: 1, P95MS: p95, P99MS: 3, VUs: 5, Arrivals: 25})
	}
	path := filepath.Join(dir, fmt.Sprintf("saved-%g.json", p95))
	if err := report.WriteFile(path, out, report.JSON); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestReportCommand re-renders a saved result: the summary and every file,
// its verdict as the exit code, a regression against --baseline as exit 1,
// and an unreadable or newer result as exit 2.
func TestReportCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fast, slow := savedResult(t, dir, 20), savedResult(t, dir, 30)
	html, junit, md := filepath.Join(dir, "o.html"), filepath.Join(dir, "o.xml"), filepath.Join(dir, "o.md")
	code, stdout, stderr := invoke(t, context.Background(), "report", fast, "--html", html, "--junit", junit, "--markdown", md)
	if code != exitOK || !strings.Contains(stdout, "Verdict: PASSED") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, f := range []string{html, junit, md} {
		if st, err := os.Stat(f); err != nil || st.Size() == 0 {
			t.Errorf("%s not written: %v", f, err)
		}
	}
	code, stdout, _ = invoke(t, context.Background(), "report", slow, "--baseline", fast, "--max-regression", "10%")
	if code != exitFailed || !strings.Contains(stdout, "baseline: p95 latency") || !strings.Contains(stdout, "50.0% worse") {
		t.Fatalf("slower than the baseline: exit %d, want 1\n%s", code, stdout)
	}
	code, _, _ = invoke(t, context.Background(), "report", slow, "--baseline", fast, "--max-regression", "60%")
	if code != exitOK {
		t.Fatalf("within a 60%% bound: exit %d, want 0", code)
	}
	newer := filepath.Join(dir, "newer.json")
	os.WriteFile(newer, []byte(`{"schema_version": 99}`), 0o644)
	for _, args := range [][]string{
		{"report", filepath.Join(dir, "missing.json")}, // no such file
		{"report", newer},                                               // a newer schema
		{"report", fast, "--max-regression", "10"},                      // ambiguous bound
		{"report", fast, fast, "--html", html},                          // --html takes one result
		{"report", fast, "--baseline", filepath.Join(dir, "nope.json")}, // unreadable baseline
	} {
		if code, _, stderr := invoke(t, context.Background(), args...); code != exitInvalid {
			t.Errorf("%q: exit %d, want 2\n%s", args, code, stderr)
		}
	}
}
