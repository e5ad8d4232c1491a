package readiness

import (
	"fmt"

	"github.com/chaosload/chaosload/runner"
)

// Assessment is a suite of runs judged against a plan's criteria: what the
// readiness report shows.
type Assessment struct {
	// Plan and File name the criteria.
	Plan, File string
	Runs       []Run
	Judgements []Judgement
	Capacity   []Capacity
	Ladder     []LadderRow
	Recoveries []RecoveryRow
	Errors     []ErrorRow
	Resources  []ResourceRow
	// Baselines are the runs compared with a saved baseline (--baseline).
	Baselines []BaselineRow
	Findings  []Finding
	Verdict   Verdict
	// Reasons say why the verdict is what it is, most severe first.
	Reasons []string
	// Notes are what the reader should know about how the runs were made
	// (set by the caller: "--quick: every duration × 0.1").
	Notes []string
}

// Run is one experiment of the suite.
type Run struct {
	Experiment, File string
	Tags             []string
	Verdict          runner.Verdict
	DurationS        float64
	Partial          bool
	// Failed names the run's checks that failed ("latency: p(95) < 100ms
	// in baseline: p95 = 340ms").
	Failed []string
}

// Assess judges outs against c: every criterion, the capacity, the users
// ladder, recovery times, errors by class and phase, resource headroom, the
// findings of every rule, and the verdict.
func Assess(c *Criteria, outs []*runner.Outcome) *Assessment {
	a := &Assessment{Plan: c.Name, File: c.File}
	for _, o := range outs {
		a.Runs = append(a.Runs, runOf(o))
	}
	for _, cr := range c.Criteria {
		a.Judgements = append(a.Judgements, judge(cr, outs))
	}
	a.Capacity = capacities(outs)
	a.Ladder = ladder(outs)
	a.Recoveries = recoveries(outs)
	a.Errors = errorRows(outs)
	a.Resources = resourceRows(c, outs)
	a.Baselines = baselineRows(outs)
	a.Findings = Findings(outs)
	a.Verdict, a.Reasons = verdict(a)
	return a
}

func runOf(o *runner.Outcome) Run {
	r := Run{Experiment: o.Experiment, File: o.File, Tags: o.Tags, Verdict: o.Verdict, DurationS: o.DurationS, Partial: o.Partial}
	for _, c := range o.Checks {
		if c.Failed() {
			where := c.Phase
			if c.Episode > 0 {
				where = fmt.Sprintf("%s #%d", c.Phase, c.Episode)
			}
			r.Failed = append(r.Failed, fmt.Sprintf("%s in %s: %s", c.Name, where, c.Observed))
		}
	}
	for _, ep := range o.Episodes {
		if ep.Recovery.Failed() {
			r.Failed = append(r.Failed, fmt.Sprintf("recovery of episode %d: %s", ep.Number, ep.Recovery.Detail))
		}
	}
	if o.Stress != nil && o.Recovery.Failed() {
		r.Failed = append(r.Failed, "recovery after overload: "+o.Recovery.Detail)
	}
	for _, v := range o.Verify {
		if !v.Passed {
			r.Failed = append(r.Failed, fmt.Sprintf("verify %s: of %d acknowledged, %d lost and %d unverified", v.Step, v.Acknowledged, v.Lost, v.Unverified))
		}
	}
	return r
}
