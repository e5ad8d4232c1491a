package report

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/chaosload/chaosload/internal/headless"
	"github.com/chaosload/chaosload/readiness"
)

// TestReadinessInChromium opens readiness.html in headless Chromium with
// every host name unresolvable (offline), and reads the verdict and the
// criteria table from the DOM Chromium built: the verdict and every
// criterion with its status, in the file's order. cmd/chaosload's
// TestReadinessOnDemo does the same on the page a real run wrote.
func TestReadinessInChromium(t *testing.T) {
	headless.Chromium(t)
	a := readiness.Assess(readiness.Default(), suiteOutcomes())
	var page bytes.Buffer
	if err := ReadinessHTML(&page, a); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "readiness.html")
	if err := os.WriteFile(file, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := headless.DumpDOM(t, file)
	got, ok := headless.ReadReadiness(dom)
	if !ok || got.Verdict != string(a.Verdict) || got.Class != "not-ready" {
		t.Fatalf("verdict in the DOM: %+v, want %q", got, a.Verdict)
	}
	if len(got.Rows) != len(a.Judgements) {
		t.Fatalf("the DOM's criteria table has %d rows, want %d:\n%s", len(got.Rows), len(a.Judgements), dom)
	}
	class := map[readiness.Status]string{readiness.Met: "met", readiness.NotMet: "not-met", readiness.NotMeasured: "not-measured"}
	for i, j := range a.Judgements {
		if want := (headless.Row{ID: j.Criterion.ID, Status: class[j.Status]}); got.Rows[i] != want {
			t.Errorf("row %d: %+v, want %+v", i, got.Rows[i], want)
		}
	}
}
