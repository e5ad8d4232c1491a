package config

import (
	"fmt"
	"slices"
	"time"

	"github.com/chaosload/chaosload/load"
)

// Stress steps one scenario's load up, level by level, to the breaking
// point: each level runs for Every with From, From+Step, ... up to To users
// (Unit vus) or iterations per second (Unit rate); the thresholds are judged
// on each level (its first Settle excluded), and stepping stops at the
// first level where one fails. Load then drops back to RecoverAt and the
// time until the thresholds hold again is measured like fault recovery,
// judged against recovery.within.
//
// The stepped scenario keeps its steps, think times and tags; its executor
// is replaced, level by level, by constant-vus (vus) or
// constant-arrival-rate (rate, per second). Each level is a load of its
// own, started on the run's clock when the previous one has stopped (its
// in-flight iterations get 2 s): VUs and their connections per VU are new
// at every level, the drivers' pools are shared. Warm-up does not apply
// (Settle does, per level), nor abort or degradation.
//
//	stress: {unit: vus, from: 100, step: 100, to: 1000, every: 30s}
type Stress struct {
	// Scenario is the scenario stepped (default: the only one).
	Scenario string `yaml:"scenario"`
	// Unit is vus (default) or rate (iterations per second).
	Unit string `yaml:"unit"`
	// From, Step and To are the levels: From, From+Step, ... ≤ To.
	From float64 `yaml:"from"`
	Step float64 `yaml:"step"`
	To   float64 `yaml:"to"`
	// Ladder lists the levels instead, ascending (levels: [10, 25, 50,
	// 100, 200, 500]): a users ladder whose rungs are not evenly spaced.
	Ladder []float64 `yaml:"levels"`
	// Every is how long each level runs.
	Every time.Duration `yaml:"every"`
	// Settle is the start of each level that is not judged (default a
	// quarter of Every, at most 5s).
	Settle time.Duration `yaml:"settle"`
	// MaxVUs caps the VUs of a rate level (default: the scenario's maxVUs,
	// else 4 × the level's rate, at least 10).
	MaxVUs int `yaml:"maxVUs"`
	// RecoverAt is the level load drops back to after the breaking point
	// (default From); 0 with NoRecovery skips the recovery measurement.
	RecoverAt float64 `yaml:"recoverAt"`
	// NoRecovery ends the run at the breaking point.
	NoRecovery bool `yaml:"noRecovery"`
	// MinCapacity fails the run when the capacity found is below it (0:
	// the capacity is reported, never judged).
	MinCapacity float64 `yaml:"minCapacity"`
}

// The stress units.
const (
	StressVUs  = "vus"
	StressRate = "rate"
)

// Levels returns the planned levels: the ladder, or From to To by Step.
func (s *Stress) Levels() []float64 {
	if len(s.Ladder) > 0 {
		return slices.Clone(s.Ladder)
	}
	var out []float64
	if s.Step <= 0 {
		return []float64{s.From}
	}
	for l := s.From; l <= s.To+1e-9; l += s.Step {
		out = append(out, l)
	}
	return out
}

// UnitOrDefault returns the unit, vus by default.
func (s *Stress) UnitOrDefault() string { return or(s.Unit, StressVUs) }

// SettleOrDefault returns the unjudged start of a level.
func (s *Stress) SettleOrDefault() time.Duration {
	if s.Settle > 0 {
		return s.Settle
	}
	return min(s.Every/4, 5*time.Second)
}

// RecoverAtOrDefault returns the level load drops back to.
func (s *Stress) RecoverAtOrDefault() float64 {
	if s.RecoverAt > 0 {
		return s.RecoverAt
	}
	return s.Levels()[0]
}

// StressScenario returns the scenario a stress section steps, nil when
// there is none.
func (e *Experiment) StressScenario() *load.Scenario {
	if e.Stress == nil {
		return nil
	}
	for i := range e.Scenarios {
		if e.Scenarios[i].Name == e.Stress.Scenario || (e.Stress.Scenario == "" && len(e.Scenarios) == 1) {
			return &e.Scenarios[i]
		}
	}
	return nil
}

func (c *checker) stress() {
	s := c.e.Stress
	if s == nil {
		return
	}
	switch {
	case len(c.e.Faults) > 0:
		c.errorf("stress", "steps load to the breaking point and cannot be combined with faults; put the faults in their own experiment")
	case len(c.e.Thresholds) == 0:
		c.errorf("stress", "needs thresholds: they define the breaking point")
	case len(c.e.Abort) > 0:
		c.errorf("abort", "is not watched in a stress run, which stops stepping at the first level that breaks a threshold; remove it")
	case c.e.StressScenario() == nil && s.Scenario == "":
		c.errorf("stress.scenario", "is required when there are several scenarios (or none)")
	case c.e.StressScenario() == nil:
		c.errorf("stress.scenario", "unknown scenario %q", s.Scenario)
	case len(c.e.Scenarios) > 1:
		c.errorf("stress.scenario", "a stress experiment steps one scenario; remove the others")
	}
	if u := s.UnitOrDefault(); u != StressVUs && u != StressRate {
		c.errorf("stress.unit", "unknown unit %q; valid: vus, rate", u)
	}
	c.stressLevels(s)
}

func (c *checker) stressLevels(s *Stress) {
	if len(s.Ladder) > 0 {
		c.stressLadder(s)
	} else {
		c.stressRange(s)
	}
	if s.Every <= 0 {
		c.errorf("stress.every", "is required: how long each level runs, e.g. 30s")
	}
	if s.Settle < 0 || (s.Every > 0 && s.Settle >= s.Every) {
		c.errorf("stress.settle", "must be shorter than every")
	}
}

// stressLadder checks levels: ascending, whole numbers of VUs, and not
// mixed with from, step and to.
func (c *checker) stressLadder(s *Stress) {
	if s.From != 0 || s.Step != 0 || s.To != 0 {
		c.errorf("stress.levels", "lists the levels; remove from, step and to (or levels)")
	}
	if len(s.Ladder) > 1000 {
		c.errorf("stress.levels", "has %d levels; at most 1000", len(s.Ladder))
	}
	for i, l := range s.Ladder {
		path := fmt.Sprintf("stress.levels.%d", i)
		switch {
		case i > 0 && l <= s.Ladder[i-1]:
			c.errorf(path, "levels must ascend: %g follows %g", l, s.Ladder[i-1])
		case s.UnitOrDefault() == StressVUs && l != float64(int(l)):
			c.errorf(path, "VU levels are whole numbers")
		}
	}
}

// stressRange checks from, step and to.
func (c *checker) stressRange(s *Stress) {
	switch {
	case s.From <= 0:
		c.errorf("stress.from", "must be a positive level, e.g. 100")
	case s.Step <= 0:
		c.errorf("stress.step", "must be positive, e.g. 50")
	case s.To < s.From:
		c.errorf("stress.to", "must be at least from (%g)", s.From)
	case len(s.Levels()) > 1000:
		c.errorf("stress.step", "makes %d levels; at most 1000", len(s.Levels()))
	}
	if s.UnitOrDefault() == StressVUs && s.From != float64(int(s.From)) {
		c.errorf("stress.from", "VU levels are whole numbers")
	}
}
