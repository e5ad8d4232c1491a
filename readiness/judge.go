package readiness

import (
	"fmt"
	"slices"

	"github.com/chaosload/chaosload/runner"
)

// Status is a criterion's result.
type Status string

// The statuses.
const (
	Met         Status = "met"
	NotMet      Status = "not met"
	NotMeasured Status = "not measured"
)

// Judgement is one criterion judged over the runs.
type Judgement struct {
	Criterion Criterion
	Status    Status
	// Decided is the measurement that decided (the worst, or the best for
	// a capability); nil when not measured.
	Decided *Measurement
	// Shown is the decisive value for a reader ("84ms").
	Shown string
	// Measured counts the measurements taken, over Runs runs.
	Measured, Runs int
	// Why says why it was not measured.
	Why string
}

// judge judges c over the runs of its tag.
func judge(c Criterion, outs []*runner.Outcome) Judgement {
	j := Judgement{Criterion: c, Status: NotMeasured}
	m, _ := lookupMetric(c.Metric)
	var all []Measurement
	for _, o := range outs {
		if c.Tag != "" && !slices.Contains(o.Tags, c.Tag) {
			continue
		}
		j.Runs++
		all = append(all, m.measure(o)...)
	}
	j.Measured = len(all)
	switch {
	case j.Runs == 0 && c.Tag != "":
		j.Why = fmt.Sprintf("no experiment tagged %q ran", c.Tag)
		return j
	case j.Runs == 0:
		j.Why = "no experiment ran"
		return j
	case len(all) == 0:
		j.Why = fmt.Sprintf("the %d run(s) measured no %s", j.Runs, c.Metric)
		return j
	}
	d := all[0]
	for _, x := range all[1:] {
		better := c.Expect.margin(x.Value) > c.Expect.margin(d.Value)
		if better == m.Best && c.Expect.margin(x.Value) != c.Expect.margin(d.Value) {
			d = x
		}
	}
	j.Decided, j.Shown = &d, Show(c.Expect.Kind, d.Value)
	j.Status = NotMet
	if c.Expect.Holds(d.Value) {
		j.Status = Met
	}
	return j
}
