package readiness

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/chaosload/chaosload/runner"
)

// Capacity is what one stress run found, in Unit (users or
// iterations/s).
type Capacity struct {
	Run, Unit string
	// Capacity is the last level that held; nil when the first broke.
	Capacity *float64
	// BreakingPoint is the first level that broke, BrokenBy what broke;
	// nil when every level held up to MaxLevel.
	BreakingPoint *float64
	BrokenBy      []string
	// MaxLevel is the highest level run; OKPerS the most operations per
	// second that succeeded on a level that held.
	MaxLevel, OKPerS float64
	// Operating is the operating point (80% of the capacity) with the p95
	// measured at OperatingAt; nil without a capacity.
	Operating, OperatingP95MS, OperatingAt *float64
}

func capacities(outs []*runner.Outcome) []Capacity {
	var out []Capacity
	for _, o := range outs {
		s := o.Stress
		if s == nil || len(s.Levels) == 0 {
			continue
		}
		c := Capacity{Run: o.Experiment, Unit: unitName(s.Unit), Capacity: s.Capacity, BreakingPoint: s.BreakingPoint,
			BrokenBy: s.BrokenBy, MaxLevel: s.Levels[len(s.Levels)-1].Level}
		for _, lv := range s.Levels {
			if lv.Passed {
				c.OKPerS = max(c.OKPerS, lv.OKPerS)
			}
		}
		if op := s.OperatingPoint; op != nil {
			c.Operating, c.OperatingP95MS, c.OperatingAt = &op.Level, op.P95MS, op.MeasuredAt
		}
		out = append(out, c)
	}
	return out
}

// LadderRow is one rung of the users ladder: a stress level, or a run of
// constant users.
type LadderRow struct {
	Users float64
	// Run is the experiment; Source "stress level" or the phase measured
	// ("baseline").
	Run, Source         string
	P50MS, P95MS, P99MS float64
	OKPerS, ErrorRate   float64
	// CPU is in percent of one core, RSS in bytes; nil when not monitored.
	CPU, RSS *float64
	// Held is whether the rung's thresholds held.
	Held bool
}

func ladder(outs []*runner.Outcome) []LadderRow {
	var rows []LadderRow
	for _, o := range outs {
		if s := o.Stress; s != nil {
			if s.Unit != "vus" {
				continue
			}
			for _, lv := range s.Levels {
				rows = append(rows, LadderRow{Users: lv.Level, Run: o.Experiment, Source: "stress level",
					P50MS: lv.P50MS, P95MS: lv.P95MS, P99MS: lv.P99MS, OKPerS: lv.OKPerS, ErrorRate: lv.ErrorRate,
					CPU: lv.CPUMax, RSS: lv.RSSMax, Held: lv.Passed && !lv.Inconclusive})
			}
			continue
		}
		if r, ok := loadRung(o); ok {
			rows = append(rows, r)
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Users < rows[j].Users })
	return rows
}

// loadRung is a closed-model run's baseline phase as a rung of the
// ladder, at the run's peak VUs.
func loadRung(o *runner.Outcome) (LadderRow, bool) {
	vus := maxVUs(o)
	if !closedModel(o) {
		return LadderRow{}, false
	}
	for _, p := range o.Phases {
		if p.Name != "baseline" || vus == 0 || p.Ops == 0 {
			continue
		}
		r := LadderRow{Users: float64(vus), Run: o.Experiment, Source: "baseline", P50MS: p.P50MS, P95MS: p.P95MS,
			P99MS: p.P99MS, OKPerS: p.OKPerS, ErrorRate: float64(p.Errors) / float64(p.Ops), Held: true}
		for _, c := range o.Checks {
			if c.Phase == "baseline" && c.Failed() {
				r.Held = false
			}
		}
		if res := o.Resources; res != nil && res.Samples > 0 {
			r.CPU, r.RSS = &res.CPUPeak, &res.RSSPeak
		}
		return r, true
	}
	return LadderRow{}, false
}

// RecoveryRow is one measured return to steady state.
type RecoveryRow struct {
	Run string
	// What is "episode 1: pg-down, reset" or "after overload".
	What string
	// MeasuredS is nil when not recovered within WithinS.
	MeasuredS, FirstGoodS *float64
	WithinS               float64
	Flaps                 int
	Passed                bool
	Detail                string
}

func recoveries(outs []*runner.Outcome) []RecoveryRow {
	var rows []RecoveryRow
	row := func(o *runner.Outcome, what string, r *runner.Recovery) {
		rows = append(rows, RecoveryRow{Run: o.Experiment, What: what, MeasuredS: r.MeasuredS, FirstGoodS: r.FirstGoodS,
			WithinS: r.WithinS, Flaps: r.Flaps, Passed: r.Passed, Detail: r.Detail})
	}
	for _, o := range outs {
		for _, ep := range o.Episodes {
			if ep.Recovery != nil {
				row(o, fmt.Sprintf("episode %d: %s", ep.Number, strings.Join(ep.Faults, ", ")), ep.Recovery)
			}
		}
		if o.Stress != nil && o.Recovery != nil && o.Stress.RecoverAt != nil {
			row(o, "after overload", o.Recovery)
		}
	}
	return rows
}

// ErrorRow counts one error class in one phase of a run.
type ErrorRow struct {
	Run, Phase, Class string
	Count             int64
	// Share is Count over the phase's operations.
	Share float64
}

func errorRows(outs []*runner.Outcome) []ErrorRow {
	var rows []ErrorRow
	for _, o := range outs {
		for _, p := range o.Phases {
			byClass, ops := classesIn(o, p.StartS, p.EndS)
			for _, class := range slices.Sorted(maps.Keys(byClass)) {
				r := ErrorRow{Run: o.Experiment, Phase: phaseName(p)[len("phase "):], Class: class, Count: byClass[class]}
				if ops > 0 {
					r.Share = float64(r.Count) / float64(ops)
				}
				rows = append(rows, r)
			}
		}
	}
	return rows
}

// classesIn sums the errors by class, and the operations, of the
// intervals starting in [from, to): a phase's errors at the recorder's
// resolution, each share taken over the same intervals.
func classesIn(o *runner.Outcome, from, to float64) (map[string]int64, int64) {
	out, ops := map[string]int64{}, int64(0)
	for _, iv := range o.Intervals {
		if iv.TS >= from && iv.TS < to {
			ops += iv.Ops
			for c, n := range iv.ByClass {
				out[c] += n
			}
		}
	}
	return out, ops
}

// ResourceRow is what one run's monitored processes used, with the
// headroom left below the plan's CPU and memory bounds.
type ResourceRow struct {
	Run string
	// Processes names what was monitored ("service+postgres+redis").
	Processes string
	// CPUPeak is in percent of one core, on Cores cores; RSSPeak in bytes;
	// RSSSlope in bytes per minute over the whole run (nil: too few
	// samples); Trend the private memory's after the warm-up (the one
	// judged: memory_trend), fitted over TrendS seconds.
	CPUPeak  float64
	Cores    int
	RSSPeak  float64
	RSSSlope *float64
	Trend    *float64
	TrendS   float64
	// CPUHeadroom and MemHeadroom say what is left below the criteria's
	// bounds (cpu_share, rss_peak); "" without such a criterion.
	CPUHeadroom, MemHeadroom string
}

func resourceRows(c *Criteria, outs []*runner.Outcome) []ResourceRow {
	var rows []ResourceRow
	for _, o := range outs {
		res := o.Resources
		if res == nil || res.Samples == 0 {
			continue
		}
		r := ResourceRow{Run: o.Experiment, Processes: monitored(res), CPUPeak: res.CPUPeak, RSSPeak: res.RSSPeak, RSSSlope: res.RSSSlope,
			Trend: res.PrivateSlope, TrendS: res.TrendToS - res.TrendFromS}
		if o.Generator != nil {
			r.Cores = o.Generator.Cores
		}
		if b, ok := boundOf(c, "cpu_share"); ok && r.Cores > 0 {
			r.CPUHeadroom = headroom(b.Value*100*float64(r.Cores)-r.CPUPeak, b, func(v float64) string {
				return sig(v) + "% of one core"
			})
		}
		if b, ok := boundOf(c, "rss_peak"); ok {
			r.MemHeadroom = headroom(b.Value-r.RSSPeak, b, showBytes)
		}
		rows = append(rows, r)
	}
	return rows
}

// boundOf is the bound of the first criterion on metric.
func boundOf(c *Criteria, metric string) (Bound, bool) {
	for _, cr := range c.Criteria {
		if cr.Metric == metric {
			return cr.Expect, true
		}
	}
	return Bound{}, false
}

func headroom(left float64, b Bound, show func(float64) string) string {
	if left < 0 {
		return fmt.Sprintf("none: %s over the bound (%s)", show(-left), b.Text)
	}
	return fmt.Sprintf("%s below the bound (%s)", show(left), b.Text)
}

// BaselineRow is one run compared with a saved baseline.
type BaselineRow struct {
	Run, Baseline string
	Compared      int
	Regressed     []string
	Passed        bool
}

func baselineRows(outs []*runner.Outcome) []BaselineRow {
	var rows []BaselineRow
	for _, o := range outs {
		c := o.Comparison
		if c == nil {
			continue
		}
		r := BaselineRow{Run: o.Experiment, Baseline: c.Baseline, Compared: len(c.Metrics), Passed: c.Passed}
		for _, m := range c.Metrics {
			if m.Regressed {
				r.Regressed = append(r.Regressed, strings.TrimSpace(m.Phase+" "+m.Metric))
			}
		}
		rows = append(rows, r)
	}
	return rows
}
