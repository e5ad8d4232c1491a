package report

import (
	"fmt"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/chaosload/chaosload/runner"
)

// Replicas in the reports: which replicas each fault acted on (its
// select:, drawn from the seed), each replica's share of its target's work
// per phase, each episode's rotation rows, and in the HTML a chart of the
// share of work per replica over time with the fault windows shaded.

// selectionLine renders "fault api-down → api[1] 127.0.0.1:40123 (select
// one, seed 42)"; "" for a fault on one replica that did not select.
func selectionLine(o *runner.Outcome, f runner.FaultResult) string {
	s := f.Selection
	if s == nil || len(s.Replicas) == 0 || s.Select == "all" && !replicated(o, f.Target) {
		return ""
	}
	how := "select " + s.Select
	if s.Seeded {
		how += fmt.Sprintf(", seed %d", o.Seed)
	}
	return fmt.Sprintf("fault %s → %s (%s)", f.Name, s.String(), how)
}

// replicated reports whether target has several replicas.
func replicated(o *runner.Outcome, target string) bool {
	for _, t := range o.Targets {
		if t.Name == target {
			return len(t.Replicas) > 1
		}
	}
	return false
}

// rotationLine renders "api[1]: out 1.25s, back 750ms, reached 12 (fault
// api-down)", with why a time was not reached.
func rotationLine(rr runner.RotationResult) string {
	line := fmt.Sprintf("%s: out %s, back %s, reached %d (fault %s)", rr.Replica, rotationSecs(rr.OutS),
		rotationSecs(rr.BackS), rr.Reached, rr.Fault)
	if rr.Note != "" {
		line += " — " + rr.Note
	}
	return line
}

func rotationSecs(s *float64) string {
	if s == nil {
		return "not reached"
	}
	return fmt.Sprintf("%.2fs", *s)
}

// replicatedTraffic returns the traffic of the targets of several replicas.
func replicatedTraffic(o *runner.Outcome) []runner.TargetTraffic {
	var out []runner.TargetTraffic
	for _, t := range o.Traffic {
		if len(t.Replicas) > 1 {
			out = append(out, t)
		}
	}
	return out
}

// shareCell renders a replica's work in a phase: "34% (120)".
func shareCell(pw runner.PhaseWork) string {
	return fmt.Sprintf("%.0f%% (%d)", pw.Share*100, pw.Work)
}

// phaseHeads labels the phases a replica's work was counted in.
func phaseHeads(r runner.ReplicaTraffic) []string {
	heads := make([]string, len(r.Phases))
	for i, pw := range r.Phases {
		heads[i] = phaseLabel(pw.Phase, pw.Episode)
	}
	return heads
}

// trafficText prints, per target of several replicas, each replica's
// share of the work per phase, then each episode's rotation.
func trafficText(w *errWriter, o *runner.Outcome) {
	for _, t := range replicatedTraffic(o) {
		w.printf("\nTraffic of %s (share of %s per phase)\n", t.Target, t.Work)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  REPLICA\t%s\n", strings.ToUpper(strings.Join(phaseHeads(t.Replicas[0]), "\t")))
		for _, r := range t.Replicas {
			cells := make([]string, len(r.Phases))
			for i, pw := range r.Phases {
				cells[i] = shareCell(pw)
			}
			fmt.Fprintf(tw, "  %s %s\t%s\n", r.Name, r.Listen, strings.Join(cells, "\t"))
		}
		_ = tw.Flush()
	}
	for _, e := range o.Episodes {
		for _, rr := range e.Rotation {
			w.printf("  rotation #%d %s\n", e.Number, rotationLine(rr))
		}
	}
}

// trafficMarkdown is trafficText as Markdown tables.
func trafficMarkdown(w *errWriter, o *runner.Outcome) {
	for _, t := range replicatedTraffic(o) {
		heads := phaseHeads(t.Replicas[0])
		for i := range heads {
			heads[i] = mdText(heads[i])
		}
		w.printf("### Traffic of %s\n\nShare of %s per phase.\n\n| Replica | %s |\n|---|%s\n", mdText(t.Target), t.Work,
			strings.Join(heads, " | "), strings.Repeat("---|", len(heads)))
		for _, r := range t.Replicas {
			cells := make([]string, len(r.Phases))
			for i, pw := range r.Phases {
				cells[i] = shareCell(pw)
			}
			w.printf("| %s %s | %s |\n", mdText(r.Name), mdCode(r.Listen), strings.Join(cells, " | "))
		}
		w.printf("\n")
	}
	rows := false
	for _, e := range o.Episodes {
		for _, rr := range e.Rotation {
			if !rows {
				w.printf("### Rotation\n\n")
				rows = true
			}
			w.printf("- episode %d: %s\n", e.Number, mdText(rotationLine(rr)))
		}
	}
	if rows {
		w.printf("\n")
	}
}

// work is what a point counts as work for a target whose work is named
// work (runner.TargetTraffic.Work).
func work(p runner.TrafficPoint, what string) int64 {
	if what == "requests" {
		return p.Requests + p.Refused
	}
	return p.Conns
}

// maxSharePoints bounds the points of a share chart: samples are merged
// into buckets of equal count above it.
const maxSharePoints = 240

// shareCharts draws, per target of several replicas, each replica's share
// of the target's work over time, stacked to 100%.
func shareCharts(o *runner.Outcome) []*chart {
	var out []*chart
	for _, t := range replicatedTraffic(o) {
		pts := t.Replicas[0].Points
		step := max(1, (len(pts)+maxSharePoints-1)/maxSharePoints)
		c := &chart{ID: "share-" + t.Target, Title: "Share of " + t.Work + " per replica: " + t.Target, Unit: "%",
			Format: fmtPercent, Stacked: true, Empty: "no " + t.Work}
		for k := step; k < len(pts); k += step {
			c.X = append(c.X, (pts[k-step].TS+pts[k].TS)/2)
		}
		for i, r := range t.Replicas {
			s := series{Name: r.Name, Color: extraColors[i%len(extraColors)]}
			for k := step; k < len(pts); k += step {
				s.Y = append(s.Y, shareAt(t, i, k-step, k))
			}
			c.Series = append(c.Series, s)
		}
		out = append(out, c)
	}
	return out
}

// shareAt is replica i's share, in percent, of the target's work between
// samples from and to; NaN without work.
func shareAt(t runner.TargetTraffic, i, from, to int) float64 {
	var total, mine int64
	for j, r := range t.Replicas {
		if to >= len(r.Points) {
			return math.NaN()
		}
		d := work(r.Points[to], t.Work) - work(r.Points[from], t.Work)
		total += d
		if j == i {
			mine = d
		}
	}
	if total <= 0 {
		return math.NaN()
	}
	return 100 * float64(mine) / float64(total)
}
