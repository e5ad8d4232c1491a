package readiness

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/chaosload/chaosload/runner"
)

// Finding is a recommendation a rule drew from the measurements, with the
// figures it rests on.
type Finding struct {
	// Rule names the rule (rules lists them).
	Rule string
	// Kind is "capacity" or "optimisation".
	Kind string
	Text string
	// Figures are the measurements cited.
	Figures []Figure
}

// Figure is one measurement a finding cites.
type Figure struct {
	Run, What, Value string
}

// rule draws findings from the runs.
type rule struct {
	Name, Kind string
	// Doc says when the rule speaks and what it cites.
	Doc   string
	apply func(outs []*runner.Outcome) []Finding
}

// RuleDoc documents one recommendation rule.
type RuleDoc struct {
	// Name names the rule in findings; Kind is capacity or optimisation;
	// Doc says when it speaks and what it cites.
	Name, Kind, Doc string
}

// Rules documents every recommendation rule, in the order their findings
// are reported.
func Rules() []RuleDoc {
	out := make([]RuleDoc, len(rules))
	for i, r := range rules {
		out[i] = RuleDoc{r.Name, r.Kind, r.Doc}
	}
	return out
}

var rules = []rule{
	{"operating-point", "capacity",
		"A stress run found a capacity: recommend at most the operating point (80% of it), citing the capacity, the breaking point and what broke, and the p95 measured at the operating point.",
		operatingPoint},
	{"first-to-saturate", "capacity",
		"At a stress run's breaking point, the monitored CPU as a share of the machine's cores: at 80% or more the CPU saturates first; below, the limit is not CPU and the finding cites what broke with the CPU and memory at that level.",
		firstToSaturate},
	{"slow-recovery", "capacity",
		"A recovery (after a fault episode or an overload) that took more than half its bound, flapped, or did not happen: cite the time, the bound and the flaps.",
		slowRecovery},
	{"stress-only-errors", "optimisation",
		"An error class seen on stress levels that broke but on no level that held and in no phase of a non-stress run: it appears only under overload; cite its count and levels.",
		stressOnlyErrors},
	{"memory-slope", "optimisation",
		"Monitored private memory (RSS less shared pages) grew by at least 10% of the peak RSS over at least a minute after the warm-up (the least-squares slope times that span): a leak candidate; cite the slope, the span and the peak.",
		memorySlope},
	{"dominant-step", "optimisation",
		"In a run of several steps, one step's p95 is at least twice every other step's (and at least 10 ms): that step dominates the latency users see. A stress run is judged at the level its operating point was measured at, any other run over the whole run; cite each step's p95 and operations.",
		dominantStep},
	{"connection-churn", "optimisation",
		"A target accepted at least one connection per two operations of the run (and at least 100): connections are not reused; cite the connections and operations.",
		connectionChurn},
	{"pool-wait", "capacity",
		"In a run without faults, at least 5% of the service's PostgreSQL connection acquires (and at least 100 acquires) found its pool empty and waited, on average at least 1 ms: requests queue for a pooled connection; cite the acquires, those that waited and the time they waited (the demo stack's pool counters).",
		poolWaits},
	{"generator-busy", "capacity",
		"The load generator was busy beyond its limits in a run (its own lag or CPU): the figures near that load are the generator's as much as the service's; cite what it reported.",
		generatorBusy},
}

// Findings applies every rule to the runs.
func Findings(outs []*runner.Outcome) []Finding {
	var out []Finding
	for _, r := range rules {
		for _, f := range r.apply(outs) {
			f.Rule, f.Kind = r.Name, r.Kind
			out = append(out, f)
		}
	}
	return out
}

func operatingPoint(outs []*runner.Outcome) []Finding {
	var out []Finding
	for _, o := range outs {
		s := o.Stress
		if s == nil || s.Capacity == nil || s.OperatingPoint == nil {
			continue
		}
		op := s.OperatingPoint
		f := Finding{Text: fmt.Sprintf("Plan for at most %g %s (80%% of the capacity %g measured by %s).", op.Level, unitName(s.Unit), *s.Capacity, o.Experiment),
			Figures: []Figure{{o.Experiment, "capacity (last level that held)", fmt.Sprintf("%g %s", *s.Capacity, unitName(s.Unit))}}}
		if s.BreakingPoint != nil {
			f.Figures = append(f.Figures, Figure{o.Experiment, "breaking point", fmt.Sprintf("%g %s: %s", *s.BreakingPoint, unitName(s.Unit), strings.Join(s.BrokenBy, "; "))})
		}
		if op.P95MS != nil {
			f.Figures = append(f.Figures, Figure{o.Experiment, fmt.Sprintf("p95 at %g %s", *op.MeasuredAt, unitName(s.Unit)), showMS(*op.P95MS)})
		}
		out = append(out, f)
	}
	return out
}

func firstToSaturate(outs []*runner.Outcome) []Finding {
	var out []Finding
	for _, o := range outs {
		s := o.Stress
		if s == nil || s.BreakingPoint == nil || o.Generator == nil || o.Generator.Cores == 0 {
			continue
		}
		lv := levelAt(s, *s.BreakingPoint)
		if lv == nil || lv.CPUMax == nil {
			continue
		}
		cores := o.Generator.Cores
		share := *lv.CPUMax / 100 / float64(cores)
		figs := []Figure{
			{o.Experiment, "breaking point", fmt.Sprintf("%g %s: %s", lv.Level, unitName(s.Unit), strings.Join(s.BrokenBy, "; "))},
			{o.Experiment, fmt.Sprintf("CPU of the monitored processes at %g %s", lv.Level, unitName(s.Unit)), fmt.Sprintf("%s%% of one core = %s of %d cores", sig(*lv.CPUMax), Show(Ratio, share), cores)},
		}
		if lv.RSSMax != nil {
			figs = append(figs, Figure{o.Experiment, fmt.Sprintf("memory at %g %s", lv.Level, unitName(s.Unit)), showBytes(*lv.RSSMax)})
		}
		text := fmt.Sprintf("CPU saturates first: at the breaking point (%g %s) the monitored processes used %s of the machine's cores; more cores, or less CPU per request, raise the capacity.", lv.Level, unitName(s.Unit), Show(Ratio, share))
		if share < 0.8 {
			text = fmt.Sprintf("The breaking point (%g %s) is not CPU-bound: the monitored processes used %s of the machine's cores there; the limit is elsewhere (what broke is cited).", lv.Level, unitName(s.Unit), Show(Ratio, share))
		}
		out = append(out, Finding{Text: text, Figures: figs})
	}
	return out
}

// unitName names a stress unit for a reader.
func unitName(unit string) string {
	if unit == "rate" {
		return "iterations/s"
	}
	return "users"
}

func levelAt(s *runner.StressResult, level float64) *runner.StressLevel {
	for i := range s.Levels {
		if s.Levels[i].Level == level {
			return &s.Levels[i]
		}
	}
	return nil
}

func slowRecovery(outs []*runner.Outcome) []Finding {
	var out []Finding
	for _, r := range recoveries(outs) {
		var text string
		switch {
		case r.MeasuredS == nil:
			text = fmt.Sprintf("%s did not recover after %s: %s.", r.Run, r.What, or(r.Detail, "not recovered within "+sig(r.WithinS)+"s"))
		case *r.MeasuredS > r.WithinS/2:
			text = fmt.Sprintf("%s recovered %s in %ss, more than half its %ss bound: little margin.", r.Run, r.What, sig(*r.MeasuredS), sig(r.WithinS))
		case r.Flaps > 0:
			text = fmt.Sprintf("%s recovered %s in %ss but flapped %d time(s) on the way: the steady state came and went.", r.Run, r.What, sig(*r.MeasuredS), r.Flaps)
		default:
			continue
		}
		figs := []Figure{{r.Run, "recovery bound", sig(r.WithinS) + "s"}, {r.Run, "flaps", fmt.Sprint(r.Flaps)}}
		if r.MeasuredS != nil {
			figs = append([]Figure{{r.Run, "recovery " + r.What, sig(*r.MeasuredS) + "s"}}, figs...)
		}
		out = append(out, Finding{Text: text, Figures: figs})
	}
	return out
}

func stressOnlyErrors(outs []*runner.Outcome) []Finding {
	calm := map[string]bool{}      // classes seen where load was bearable
	broke := map[string][]string{} // class → levels that broke where it appeared
	count := map[string]int64{}
	run := map[string]string{}
	for _, o := range outs {
		if o.Stress == nil {
			for c := range o.Totals.ByClass {
				calm[c] = true
			}
			continue
		}
		for _, lv := range o.Stress.Levels {
			byClass, _ := classesIn(o, lv.StartS, lv.EndS)
			for c, n := range byClass {
				if lv.Passed {
					calm[c] = true
					continue
				}
				broke[c] = append(broke[c], fmt.Sprintf("%g", lv.Level))
				count[c] += n
				run[c] = o.Experiment
			}
		}
	}
	var out []Finding
	for _, c := range slices.Sorted(maps.Keys(broke)) {
		if calm[c] {
			continue
		}
		levels := slices.Compact(broke[c])
		out = append(out, Finding{
			Text:    fmt.Sprintf("Errors of class %s appear only under overload (levels %s), never where the load held: the service's behaviour past its capacity.", c, strings.Join(levels, ", ")),
			Figures: []Figure{{run[c], c + " errors on levels that broke", fmt.Sprint(count[c])}, {run[c], c + " errors on levels that held and in other runs", "0"}},
		})
	}
	return out
}

func memorySlope(outs []*runner.Outcome) []Finding {
	var out []Finding
	for _, o := range outs {
		res := o.Resources
		if res == nil || res.PrivateSlope == nil || res.TrendToS-res.TrendFromS < MinTrendS || res.RSSPeak <= 0 {
			continue
		}
		span := res.TrendToS - res.TrendFromS
		growth := *res.PrivateSlope * span / 60
		if growth < 0.1*res.RSSPeak {
			continue
		}
		out = append(out, Finding{
			Text: fmt.Sprintf("Private memory of %s grew %s over %ss after %s's warm-up (%s of its peak RSS): a leak candidate; a longer run shows whether it levels off.",
				monitored(res), showBytes(growth), sig(span), o.Experiment, Show(Ratio, growth/res.RSSPeak)),
			Figures: []Figure{{o.Experiment, "private memory slope", showBytes(*res.PrivateSlope) + "/min"}, {o.Experiment, "RSS peak", showBytes(res.RSSPeak)},
				{o.Experiment, "trend fitted", fmt.Sprintf("%ss to %ss", sig(res.TrendFromS), sig(res.TrendToS))}},
		})
	}
	return out
}

func connectionChurn(outs []*runner.Outcome) []Finding {
	var out []Finding
	for _, o := range outs {
		for _, t := range o.Targets {
			if t.Accepted < 100 || o.Totals.Ops == 0 || float64(t.Accepted) < 0.5*float64(o.Totals.Ops) {
				continue
			}
			out = append(out, Finding{
				Text: fmt.Sprintf("%s: target %s accepted %d connections for %d operations (%s per operation): connections are opened rather than reused; keep-alive or a pool would spare the handshakes.",
					o.Experiment, t.Name, t.Accepted, o.Totals.Ops, sig(float64(t.Accepted)/float64(o.Totals.Ops))),
				Figures: []Figure{{o.Experiment, "connections accepted by " + t.Name, fmt.Sprint(t.Accepted)}, {o.Experiment, "operations", fmt.Sprint(o.Totals.Ops)}},
			})
		}
	}
	return out
}

// The pool-wait rule's thresholds.
const (
	minPoolAcquires  = 100
	minPoolWaitShare = 0.05
	minPoolMeanMS    = 1
)

func poolWaits(outs []*runner.Outcome) []Finding {
	var out []Finding
	for _, o := range outs {
		p := o.Pool
		if p == nil || len(o.Faults) > 0 || len(o.Episodes) > 0 || p.Acquires < minPoolAcquires || p.Waited == 0 {
			continue
		}
		share, mean := float64(p.Waited)/float64(p.Acquires), p.WaitMS/float64(p.Waited)
		if share < minPoolWaitShare || mean < minPoolMeanMS {
			continue
		}
		out = append(out, Finding{
			Text: fmt.Sprintf("%s: %d of %d PostgreSQL connection acquires (%s) found the service's pool empty and waited %s ms on average: requests queue for a pooled connection; a larger pool (within the server's max_connections) or shorter-held connections would cut that wait.",
				o.Experiment, p.Waited, p.Acquires, Show(Ratio, share), sig(mean)),
			Figures: []Figure{{o.Experiment, "pool acquires", fmt.Sprint(p.Acquires)}, {o.Experiment, "acquires that waited for a connection", fmt.Sprint(p.Waited)},
				{o.Experiment, "time they waited, summed", sig(p.WaitMS) + " ms"}},
		})
	}
	return out
}

func generatorBusy(outs []*runner.Outcome) []Finding {
	var runs []string
	var figs []Figure
	for _, o := range outs {
		g := o.Generator
		if g == nil || g.Busy == "" {
			continue
		}
		runs = append(runs, o.Experiment)
		figs = append(figs, Figure{o.Experiment, "generator", g.Busy})
	}
	if len(runs) == 0 {
		return nil
	}
	return []Finding{{
		Text:    fmt.Sprintf("The load generator was busy beyond its limits in %d run(s) (%s): the figures at that load are partly its own; run the load from more workers or another machine to separate them.", len(runs), strings.Join(runs, ", ")),
		Figures: figs,
	}}
}

func dominantStep(outs []*runner.Outcome) []Finding {
	var out []Finding
	for _, o := range outs {
		all, where := stepsAtOperatingPoint(o)
		var timed []runner.StepResult
		for _, s := range all {
			if s.Ops > 0 {
				timed = append(timed, s)
			}
		}
		if len(timed) < 2 {
			continue
		}
		slices.SortStableFunc(timed, func(a, b runner.StepResult) int { return cmp.Compare(b.P95MS, a.P95MS) })
		top, next := timed[0], timed[1]
		if top.P95MS < 10 || next.P95MS <= 0 || top.P95MS < 2*next.P95MS {
			continue
		}
		f := Finding{Text: fmt.Sprintf("In %s, %s, step %s dominates the latency: p95 %s, %s times the next step's (%s, %s); it is where time goes.",
			o.Experiment, where, top.Name, showMS(top.P95MS), sig(top.P95MS/next.P95MS), next.Name, showMS(next.P95MS))}
		for _, s := range timed {
			f.Figures = append(f.Figures, Figure{o.Experiment, fmt.Sprintf("step %s p95 %s (%d operations)", s.Name, where, s.Ops), showMS(s.P95MS)})
		}
		out = append(out, f)
	}
	return out
}

// stepsAtOperatingPoint is a stress run's steps on the level its operating
// point was measured at, else a run's steps over the whole run; where says
// which.
func stepsAtOperatingPoint(o *runner.Outcome) ([]runner.StepResult, string) {
	if s := o.Stress; s != nil && s.OperatingPoint != nil && s.OperatingPoint.MeasuredAt != nil {
		if lv := levelAt(s, *s.OperatingPoint.MeasuredAt); lv != nil && len(lv.Steps) > 0 {
			return lv.Steps, fmt.Sprintf("at %g %s (where the operating point was measured)", lv.Level, unitName(s.Unit))
		}
	}
	return o.Steps, "over the whole run"
}
