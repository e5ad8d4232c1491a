package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/runner"
)

// suiteFile is a small experiment against url: 30 s of 20 requests/s,
// judged by threshold, tagged.
func suiteFile(name, tags, url, threshold string) string {
	return `version: 1
name: ` + name + `
tags: [` + tags + `]
scenarios:
  s:
    executor: constant-arrival-rate
    rate: 20
    duration: 30s
    preAllocatedVUs: 4
    steps:
      - name: get
        http: {method: GET, url: "` + url + `"}
thresholds:
  latency: ["` + threshold + `"]
`
}

// TestSuiteDirectory: a directory runs its files in name order; --suite
// keeps the tagged ones; --quick runs 30 s scenarios in 3 s; the exit code
// is the worst (one failed: 1); without --baseline the suite's first
// performance run, a-load, runs again at the end and is compared with its
// first run (recheck.go); --junit holds a testsuite per experiment run and
// --out a result per experiment, and the readiness report judged against
// --criteria: not ready, naming the criterion a-load missed and the
// experiment that failed; the regression criterion measured by a-load's
// second run.
func TestSuiteDirectory(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	files := map[string]string{
		"a-load.yaml":  suiteFile("a-load", "load, performance", srv.URL, "p(95) < 2s"),
		"b-stress.yml": suiteFile("b-stress", "stress, slow", srv.URL, "p(95) < 1us"),
		"c-other.yaml": suiteFile("c-other", "other", srv.URL, "p(95) < 2s"),
		"notes.txt":    "not an experiment",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	criteria := filepath.Join(t.TempDir(), "criteria.yaml")
	if err := os.WriteFile(criteria, []byte(`version: 1
name: team plan
criteria:
  - {id: fast, text: p95 under 2 s, tag: load, metric: p95_ms, expect: "< 2s"}
  - {id: busy, text: 1000 requests per second, tag: load, metric: requests_rate, expect: ">= 1000/s"}
  - {id: same, text: no regression, tag: performance, metric: baseline_regressions, expect: "== 0"}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, junit := t.TempDir(), filepath.Join(t.TempDir(), "junit.xml")
	r := chaosload(t, nil, "run", dir, "--suite", "load,stress,performance", "--quick", "--quiet", "--junit", junit, "--out", out, "--criteria", criteria)
	a, err := readResult(filepath.Join(out, "a-load.json"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := readResult(filepath.Join(out, "b-stress.json"))
	if err != nil {
		t.Fatal(err)
	}
	if r.code != exitFailed || a.Verdict != runner.Passed || b.Verdict != runner.Failed {
		t.Fatalf("exit %d, a-load %s, b-stress %s; want 1 (b-stress fails, a-load passes)\n%s\n%s",
			r.code, a.Verdict, b.Verdict, r.stdout, r.stderr)
	}
	for _, want := range []string{"Suite: 3 experiments", "PASSED       a-load", "FAILED       b-stress", "not selected c-other"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	x, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(x), "<testsuite "); n != 3 {
		t.Errorf("junit has %d testsuites, want 3:\n%s", n, x)
	}
	checkRecheck(t, out, a)
	// --quick scaled the 30 s scenario to 3 s: 20/s for 3 s is 60 arrivals.
	if got := a.Totals.Ops; got != 60 {
		t.Errorf("a-load: %d operations, want 60 (20/s for 30 s × 0.1)", got)
	}
	checkSuiteReadiness(t, out, r.stdout)
}

// checkRecheck checks a-load's second run: compared with the first, the
// suite's baseline run, whose 60 operations are too few to compare p95 and
// throughput (report.MinCompareOps), so nothing regressed.
func checkRecheck(t *testing.T, out string, first *runner.Outcome) {
	t.Helper()
	second, err := readResult(filepath.Join(out, "a-load-2.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := "this suite's baseline run a-load (" + filepath.Join(out, "a-load.json") + ")"
	if c := second.Comparison; c == nil || c.Baseline != want || !c.Passed || !c.BaselineStartedAt.Equal(first.StartedAt) || len(c.Metrics) == 0 {
		t.Fatalf("a-load's second run compared with %+v, want %q (started %v), passed", c, want, first.StartedAt)
	}
	if first.Comparison != nil {
		t.Errorf("a-load's first run, the baseline, was compared with %s", first.Comparison.Baseline)
	}
}

// checkSuiteReadiness checks the readiness report of TestSuiteDirectory.
func checkSuiteReadiness(t *testing.T, out, stdout string) {
	t.Helper()
	readinessHead(t, out,
		"# ❌ Readiness: NOT READY",
		"Plan: **team plan**",
		"3 criteria: 2 met, 1 not met, 0 not measured · 3 experiments",
		"no --baseline: a-load ran a second time at the end of the suite",
		"- busy (1000 requests per second): ",
		"is not &gt;= 1000/s in a-load, successful operations per second in phase baseline",
		"- experiment b-stress failed: latency: p(95) &lt; 1us in baseline: p95 = ",
	)
	html, err := os.ReadFile(filepath.Join(out, "readiness.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(html), `id="verdict">not ready</span>`) {
		t.Errorf("readiness.html has no not-ready verdict")
	}
	if !strings.Contains(stdout, "Readiness: NOT READY ("+filepath.Join(out, "readiness.md")+")") {
		t.Errorf("stdout does not give the readiness verdict:\n%s", stdout)
	}
}

// TestInvalidCriteria: a criteria file with a mistake is a usage error
// (exit 2) naming file:line:col, before anything runs.
func TestInvalidCriteria(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(file, []byte("version: 1\ncriteria:\n  - {id: a, metric: p95_ms, expect: \"< 1GB\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	exp := filepath.Join(dir, "x.yaml")
	if err := os.WriteFile(exp, []byte(suiteFile("x", "load", "http://127.0.0.1:1/", "p(95) < 2s")), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := invoke(t, context.Background(), "run", exp, "--criteria", file, "--out", t.TempDir(), "--quiet")
	want := file + `:3:37: criteria[0].expect: unit "GB" does not fit this metric`
	if code != exitInvalid || !strings.Contains(stderr, want) {
		t.Fatalf("exit %d, want 2 and %q\n%s\n%s", code, want, stdout, stderr)
	}
}

// TestSuiteSelectsNothing: a --suite no experiment is tagged with is a
// usage error (exit 2), not a silent pass.
func TestSuiteSelectsNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x.yaml"), []byte(suiteFile("x", "load", "http://127.0.0.1:1/", "p(95) < 2s")), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := invoke(t, context.Background(), "run", dir, "--suite", "nightly", "--quiet")
	if code != exitInvalid || !strings.Contains(stderr, "selects none") {
		t.Fatalf("exit %d, want 2\n%s\n%s", code, stdout, stderr)
	}
}

// TestQuickKeepsBundledValid: --quick leaves every bundled experiment
// valid, each duration a tenth of the file's (at least QuickFloor); a file
// with monitor.trend runs no longer than its trend needs (TrendFloor).
func TestQuickKeepsBundledValid(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../../experiments/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bundled experiments: %v", err)
	}
	a := newApp(io.Discard, io.Discard)
	for _, f := range files {
		exp, err := a.load(f, nil)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		before, trend := exp.PlannedSpan(), exp.TrendFloor()
		exp, err = exp.Quick(config.QuickFactor)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if after := exp.PlannedSpan(); after > max(before/5, trend) && before > 20*time.Second {
			t.Errorf("%s: --quick runs %s of %s", f, after, before)
		}
		// Nothing a VU does may outlast the quickened scenario by more
		// than the scenario itself lasts: a WebSocket hold or graceful
		// stop kept at full length would stretch the run and thin every
		// rate measured over it.
		for _, sc := range exp.Scenarios {
			if sc.GracefulStop != nil && *sc.GracefulStop > 3*time.Second {
				t.Errorf("%s: scenario %s: gracefulStop %v after --quick", f, sc.Name, *sc.GracefulStop)
			}
			for _, st := range sc.Steps {
				if st.WS != nil && st.WS.Hold > 3*time.Second {
					t.Errorf("%s: scenario %s: ws hold %v after --quick", f, sc.Name, st.WS.Hold)
				}
			}
		}
	}
}
