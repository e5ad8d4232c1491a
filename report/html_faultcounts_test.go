package report

import (
	"strings"
	"testing"
)

// TestHTMLFaultCounts: the HTML faults table shows what a protocol-aware
// fault did (errors injected, requests delayed, connections not
// inspectable) under its name, and nothing for a fault without counts.
func TestHTMLFaultCounts(t *testing.T) {
	t.Parallel()
	o := passedOutcome()
	if len(o.Faults) == 0 {
		t.Fatal("the fixture has no fault")
	}
	plain := renderHTML(t, o)
	if strings.Contains(plain, `class="counts"`) {
		t.Error("a fault without counts shows a counts line")
	}
	o.Faults[0].Injected, o.Faults[0].Delayed, o.Faults[0].Uninspectable = 481, 12, 1
	page := renderHTML(t, o)
	want := `<td>` + o.Faults[0].Name + `<div class="counts">481 errors injected, 12 requests delayed, 1 connections not inspectable</div>`
	if !strings.Contains(page, want) {
		i := strings.Index(page, `<section id="faults">`)
		t.Errorf("the faults table lacks %q:\n%s", want, page[i:min(len(page), i+1200)])
	}
}
