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

// resourceWho names what was monitored, for an outcome without the
// per-process figures (saved before they existed): "postgres 123, redis
// 456, service 789" or the PIDs.
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
	}
	return strings.Join(roles, ", ")
}

// processName is how a monitored process is named: "service pid 123",
// "pid 456", with "+ children" when its descendants are counted.
func processName(p runner.ProcessResources) string {
	name := fmt.Sprintf("pid %d", p.PID)
	if p.Name != "" {
		name = p.Name + " " + name
	}
	if p.Children {
		name += " + children"
	}
	return name
}

// processLine is one process's figures: "CPU peak 45%, avg 20% of one core,
// RSS peak 30 MB, fds peak 20, threads peak 10".
func processLine(p runner.ProcessResources) string {
	return fmt.Sprintf("CPU peak %.0f%%, avg %.0f%% of one core, RSS peak %s, fds peak %.0f, threads peak %.0f",
		p.CPUPeak, p.CPUAvg, fmtBytes(p.RSSPeak), p.FDsPeak, p.ThreadsPeak)
}

// resourcesText writes the target resources and the probes of the summary.
func resourcesText(w *errWriter, o *runner.Outcome) {
	if r := o.Resources; r != nil && len(r.Processes) == 0 {
		w.printf("\nTarget resources: %s\n  %s\n", resourceWho(r), resourceLine(r))
	} else if r != nil {
		w.printf("\nTarget resources, summed: %s\n", resourceLine(r))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, p := range r.Processes {
			fmt.Fprintf(tw, "  %s\t%s\n", processName(p), processLine(p))
		}
		_ = tw.Flush()
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
	if r := o.Resources; r != nil && len(r.Processes) == 0 {
		w.printf("### Target resources\n\n%s: %s\n\n", mdText(resourceWho(r)), mdText(resourceLine(r)))
	} else if r != nil {
		w.printf("### Target resources\n\nSummed: %s\n\n| Process | CPU peak | CPU avg | RSS peak | fds peak | threads peak |\n|---|---|---|---|---|---|\n",
			mdText(resourceLine(r)))
		for _, p := range r.Processes {
			w.printf("| %s | %.0f%% | %.0f%% | %s | %.0f | %.0f |\n", mdText(processName(p)), p.CPUPeak, p.CPUAvg,
				fmtBytes(p.RSSPeak), p.FDsPeak, p.ThreadsPeak)
		}
		w.printf("\n")
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
