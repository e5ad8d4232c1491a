package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/chaosload/chaosload/runner"
)

// TestResourcesPerProcess: with per-process figures, the summary gives the
// sum, then each process by role and PID with its own figures, the
// service first; Markdown and HTML have them as a table.
func TestResourcesPerProcess(t *testing.T) {
	t.Parallel()
	o := passedOutcome()
	o.Resources = &runner.Resources{Roles: map[string]int{"service": 20, "postgres": 10}, PIDs: []int{10, 20}, Samples: 30,
		CPUPeak: 85, RSSPeak: 412e6, FDsPeak: 120, ThreadsPeak: 40,
		Processes: []runner.ProcessResources{
			{Name: "service", PID: 20, Children: true, CPUPeak: 45, CPUAvg: 20, RSSPeak: 32 << 20, FDsPeak: 20, ThreadsPeak: 10},
			{Name: "postgres", PID: 10, Children: true, CPUPeak: 40, CPUAvg: 12, RSSPeak: 380e6, FDsPeak: 100, ThreadsPeak: 30},
			{PID: 30, CPUPeak: 1, RSSPeak: 1e6},
		}}
	var b bytes.Buffer
	if err := Text(&b, o); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	svc := strings.Index(text, "service pid 20 + children")
	pg := strings.Index(text, "postgres pid 10 + children")
	if svc < 0 || pg < svc || !strings.Contains(text, "CPU peak 45%, avg 20% of one core, RSS peak 32 MB, fds peak 20, threads peak 10") ||
		!strings.Contains(text, "  pid 30  ") || !strings.Contains(text, "Target resources, summed: CPU peak 85% of one core") {
		t.Errorf("summary:\n%s", text)
	}
	b.Reset()
	if err := Markdown(&b, o); err != nil {
		t.Fatal(err)
	}
	if md := b.String(); !strings.Contains(md, "| service pid 20 + children | 45% | 20% | 32 MB | 20 | 10 |") {
		t.Errorf("markdown:\n%s", md)
	}
	page := renderHTML(t, o)
	if !strings.Contains(page, `<section id="processes">`) ||
		!strings.Contains(page, `<tr><td>service pid 20 &#43; children</td><td class="num">45%</td><td class="num">20%</td><td class="num">32 MB</td>`) {
		t.Errorf("html has no process table with the service's own figures")
	}
}
