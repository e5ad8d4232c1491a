package report

import (
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/chaosload/chaosload/runner"
)

// resourceLine sums up the monitored processes: "CPU peak 85% of one core,
// RSS peak 412MB (slope +1.2MB/min), fds 120, threads 40".
func resourceLine(r *runner.Resources) string {
	line := fmt.Sprintf("CPU peak %.0f%% of one core, RSS peak %s", r.CPUPeak, fmtBytes(r.RSSPeak))
	if r.RSSSlope != nil {
		sign := "+"
		if *r.RSSSlope < 0 {
			sign = "-"
		}
		line += fmt.Sprintf(" (slope %s%s/min)", sign, fmtBytes(max(*r.RSSSlope, -*r.RSSSlope)))
	}
	return line + fmt.Sprintf(", fds peak %.0f, threads peak %.0f; %d samples", r.FDsPeak, r.ThreadsPeak, r.Samples)
}

// resourceWho names what was monitored: "postgres 123, redis 456, service
// 789 (this process)" or the PIDs.
func resourceWho(r *runner.Resources) string {
	if len(r.Roles) == 0 {
		parts := make([]string, len(r.PIDs))
		for i, p := range r.PIDs {
			parts[i] = fmt.Sprint(p)
		}
		return "pids " + strings.Join(parts, ", ")
	}
	roles := make([]string, 0, len(r.Roles))
	for role := range r.Roles {
		roles = append(roles, role)
	}
	sort.Strings(roles)
	for i, role := range roles {
		roles[i] = fmt.Sprintf("%s %d", role, r.Roles[role])
		if role == "service" {
			roles[i] += " (the chaosload process: the demo service runs in it)"
		}
	}
	return strings.Join(roles, ", ") + "; postgres and redis with their children"
}

// resourcesText writes the target resources and the probes of the summary.
func resourcesText(w *errWriter, o *runner.Outcome) {
	if r := o.Resources; r != nil {
		w.printf("\nTarget resources: %s\n  %s\n", resourceWho(r), resourceLine(r))
	}
	if len(o.Probes) == 0 {
		return
	}
	w.printf("\nProbes\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  NAME\tKIND\tCHECKS\tATTEMPTS\tOK\tP50\tP95\tFAILURES\n")
	for _, p := range o.Probes {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", p.Name, p.Kind, p.Target, p.Attempts,
			pct(p.OKRate), fmtMS(p.P50MS), fmtMS(p.P95MS), classList(p.ByClass))
	}
	_ = tw.Flush()
}

// resourcesMarkdown writes the same as Markdown.
func resourcesMarkdown(w *errWriter, o *runner.Outcome) {
	if r := o.Resources; r != nil {
		w.printf("### Target resources\n\n%s: %s\n\n", mdText(resourceWho(r)), mdText(resourceLine(r)))
	}
	if len(o.Probes) == 0 {
		return
	}
	w.printf("### Probes\n\n| Probe | Kind | Checks | Attempts | OK | p50 | p95 | Failures |\n|---|---|---|---|---|---|---|---|\n")
	for _, p := range o.Probes {
		w.printf("| %s | %s | %s | %d | %s | %s | %s | %s |\n", mdText(p.Name), p.Kind, mdCode(p.Target), p.Attempts,
			pct(p.OKRate), fmtMS(p.P50MS), fmtMS(p.P95MS), mdText(classList(p.ByClass)))
	}
	w.printf("\n")
}
