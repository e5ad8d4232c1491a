package report

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/chaosload/chaosload/readiness"
)

var (
	domVerdict  = regexp.MustCompile(`<span class="verdict ([a-z-]+)" id="verdict">([^<]*)</span>`)
	domCriteria = regexp.MustCompile(`(?s)<table id="criteria">.*?</table>`)
	domRow      = regexp.MustCompile(`(?s)<tr class="(met|not-met|not-measured)"><td>[^<]*</td><td>[^<]*\(([a-z0-9-]+)\)`)
)

// TestReadinessInChromium opens readiness.html in headless Chromium with
// every host name unresolvable (offline), and reads the verdict and the
// criteria table from the DOM Chromium built: the verdict and every
// criterion with its status, in the file's order.
func TestReadinessInChromium(t *testing.T) {
	bin := chromium(t)
	a := readiness.Assess(readiness.Default(), suiteOutcomes())
	var page bytes.Buffer
	if err := ReadinessHTML(&page, a); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "readiness.html")
	if err := os.WriteFile(file, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := runChromium(t, bin, dir, "--host-resolver-rules=MAP * ~NOTFOUND", "--dump-dom", "file://"+file)
	v := domVerdict.FindSubmatch(dom)
	if v == nil || string(v[2]) != string(a.Verdict) || string(v[1]) != "not-ready" {
		t.Fatalf("verdict in the DOM: %q, want %q", v, a.Verdict)
	}
	table := domCriteria.Find(dom)
	rows := domRow.FindAllSubmatch(table, -1)
	if len(rows) != len(a.Judgements) {
		t.Fatalf("the DOM's criteria table has %d rows, want %d:\n%s", len(rows), len(a.Judgements), table)
	}
	class := map[readiness.Status]string{readiness.Met: "met", readiness.NotMet: "not-met", readiness.NotMeasured: "not-measured"}
	for i, j := range a.Judgements {
		if got := string(rows[i][2]) + " " + string(rows[i][1]); got != j.Criterion.ID+" "+class[j.Status] {
			t.Errorf("row %d: %s, want %s %s", i, got, j.Criterion.ID, class[j.Status])
		}
	}
}
