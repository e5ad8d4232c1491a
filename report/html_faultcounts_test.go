package report

import (
	"strings"
	"testing"

	"github.com/chaosload/chaosload/runner"
)

// TestHTMLFaultCounts: the HTML faults table shows under each fault's name
// what it did to traffic, "no effect on traffic" for a fault that changed
// nothing, the protocol-aware counts of a result saved before faults had an
// effect, and nothing for a fault without any of these.
func TestHTMLFaultCounts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		set  func(f *runner.FaultResult)
		want string // the counts line; "" for none
	}{
		// no effect recorded, no counts: no line
		{"nothing", func(f *runner.FaultResult) { f.Effect = nil }, ""},
		// a saved result of before effects: its protocol-aware counts
		{"saved counts", func(f *runner.FaultResult) {
			f.Effect, f.Injected, f.Delayed, f.Uninspectable = nil, 481, 12, 1
		}, "481 errors injected, 12 requests delayed, 1 connections not inspectable"},
		// what a pool exhaustion did
		{"effect", func(f *runner.FaultResult) {
			f.Effect = &runner.FaultEffect{Changed: true, ServerRefused: 412, SlotsHeld: 27}
		}, "412 connections refused by the server, 27 slots held"},
		// a fault that changed nothing, late
		{"no effect", func(f *runner.FaultResult) {
			f.Effect, f.LateS = &runner.FaultEffect{SlotsHeld: 27}, 1.5
		}, "no effect on traffic (27 slots held), took effect 1.5s late"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := passedOutcome()
			for i := range o.Faults {
				o.Faults[i].Effect = nil
			}
			tc.set(&o.Faults[0])
			page := renderHTML(t, o)
			i := strings.Index(page, `<section id="faults">`)
			table := page[i:min(len(page), i+1600)]
			switch {
			case tc.want == "" && strings.Contains(table, `class="counts"`):
				t.Errorf("a fault without counts shows a counts line:\n%s", table)
			case tc.want != "" && !strings.Contains(table, `<td>`+o.Faults[0].Name+`<div class="counts">`+tc.want+`</div>`):
				t.Errorf("the faults table lacks %q:\n%s", tc.want, table)
			}
		})
	}
}
