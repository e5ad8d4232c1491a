package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chaosload/chaosload/internal/headless"
	"github.com/chaosload/chaosload/readiness"
	"github.com/chaosload/chaosload/runner"
)

// readinessDemo is 20 users browsing the demo shop for 6 s, judged by
// bounds a busy machine keeps (p95 under 2 s, errors under 10%).
const readinessDemo = `version: 1
name: readiness-demo
tags: [load]
stack: {name: demo, mode: graceful}
targets:
  api: {upstream: "${stack.api}", protocol: http}
scenarios:
  users:
    executor: constant-vus
    vus: 20
    duration: 6s
    steps:
      - name: browse
        http: {method: GET, url: "http://${targets.api}/api/products"}
        think: 100ms
thresholds:
  latency: ["p(95) < 2s"]
  errors: ["rate < 10%"]
`

// TestReadinessOnDemo: a run on the demo that passes is still "not ready"
// against a plan whose memory bound the demo's processes exceed (10 MB):
// the verdict names that criterion, its figure and the run; the latency
// criterion is met. The readiness.html the run wrote, opened offline in
// headless Chromium, shows the same verdict and criteria; the result holds
// the demo service's pool counters over the load.
func TestReadinessOnDemo(t *testing.T) {
	dir := t.TempDir()
	criteria := filepath.Join(dir, "criteria.yaml")
	if err := os.WriteFile(criteria, []byte(`version: 1
name: tight memory
criteria:
  - {id: latency, text: p95 under 2 s, tag: load, metric: p95_ms, expect: "< 2s"}
  - {id: memory, text: memory under 10 MB, tag: load, metric: rss_peak, expect: "< 10MB"}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	r := runYAML(t, readinessDemo, "--out", out, "--criteria", criteria)
	r.expect(t, exitOK, runner.Passed)
	head := readinessHead(t, out,
		"# ❌ Readiness: NOT READY",
		"2 criteria: 1 met, 1 not met, 0 not measured · 1 experiments",
		"\n- memory (memory under 10 MB): ",
		" is not &lt; 10MB in readiness-demo, peak RSS of service+postgres",
	)
	if strings.Contains(head, "- latency") {
		t.Errorf("the latency criterion is among the reasons:\n%s", head)
	}
	if !strings.Contains(r.stdout, "Readiness: NOT READY") {
		t.Errorf("stdout lacks the readiness verdict:\n%s", r.stdout)
	}
	if p := r.out.Pool; p == nil || p.Acquires < 1 || p.Waited < 0 {
		t.Errorf("the demo service's pool over the run: %+v, want its acquires counted", p)
	}
	readinessInChromium(t, filepath.Join(out, "readiness.html"), "not ready", "not-ready",
		headless.Row{ID: "latency", Status: "met"}, headless.Row{ID: "memory", Status: "not-met"})
}

// readinessInChromium opens page in headless Chromium (offline) and fails
// the test unless the DOM shows the verdict (its text and class) and
// exactly the criteria rows, in order. It skips, saying so, only when
// Chromium is not installed.
func readinessInChromium(t *testing.T, page, verdict, class string, rows ...headless.Row) {
	t.Helper()
	dom := headless.DumpDOM(t, page)
	got, ok := headless.ReadReadiness(dom)
	if !ok || got.Verdict != verdict || got.Class != class || !slices.Equal(got.Rows, rows) {
		t.Fatalf("%s in Chromium: verdict %q (%s), rows %+v; want %q (%s), %+v", page, got.Verdict, got.Class, got.Rows, verdict, class, rows)
	}
}

// readinessHead returns the verdict section of DIR/readiness.md (up to the
// first table), failing the test unless it holds each of wants.
func readinessHead(t *testing.T, dir string, wants ...string) string {
	t.Helper()
	md, err := os.ReadFile(filepath.Join(dir, "readiness.md"))
	if err != nil {
		t.Fatal(err)
	}
	head := strings.SplitN(string(md), "\n## ", 2)[0]
	for _, want := range wants {
		if !strings.Contains(head, want) {
			t.Errorf("readiness.md lacks %q:\n%s", want, head)
		}
	}
	return head
}

// TestCriteriaCommand: criteria prints the bundled file, which criteria
// FILE checks and lists: one line per criterion with what it measures.
func TestCriteriaCommand(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := invoke(t, context.Background(), "criteria")
	if code != exitOK || stdout != string(readiness.DefaultYAML()) {
		t.Fatalf("exit %d, printed %d bytes, want the bundled file\n%s", code, len(stdout), stderr)
	}
	file := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(file, []byte(stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = invoke(t, context.Background(), "criteria", file)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if code != exitOK || len(lines) != 1+len(readiness.Default().Criteria) ||
		!strings.Contains(lines[0], "22 criteria (load and stress plan)") || !strings.Contains(stdout, "queued_commands >= 1000") {
		t.Fatalf("exit %d:\n%s\n%s", code, stdout, stderr)
	}
}
