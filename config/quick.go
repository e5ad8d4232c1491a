package config

import (
	"fmt"
	"time"

	"github.com/chaosload/chaosload/load"
)

// QuickFactor is the factor `chaosload run --quick` gives Quick, and
// QuickFloor the shortest a scaled duration becomes (unless it was shorter
// already): a 120 s scenario runs 12 s, a 5 s window 0.5 s (two recorder
// intervals). The floor is low so that scaling keeps the file's proportions
// (the observation period after the last fault must cover within + hold +
// window): a higher floor would lengthen the short durations only.
const (
	QuickFactor = 0.1
	QuickFloor  = 500 * time.Millisecond
)

// Quick returns a copy of the experiment with its timeline scaled by
// factor, in (0, 1], and validates the copy; e is left as it was. Each
// duration d becomes max(d × factor, min(d, QuickFloor)): never longer
// than it was, never shorter than QuickFloor unless it was already.
//
// Scaled, the timeline: scenario durations, start times, stages,
// maxDuration, gracefulStop and gracefulRampDown, a WebSocket step's hold
// (a connection's lifetime: unscaled it would outlast the scenario); fault
// start times and durations, and a fault's own recovery; warm-up; recovery
// within, hold and window; stress every and settle.
//
// Not scaled, what is not the timeline's length but what is tested or how it
// is measured: a fault's magnitude (latency, jitter, delay, timeout, rto), a
// step's think time and timeouts, timeUnit (it sets a rate), probe and
// monitor periods, an abort condition's `for`, the stack's services' ready
// timeout and restart backoff (a real process starts no faster in a quick
// run).
//
// A file with monitor.trend keeps its warm-up and at least TrendFloor of
// each scenario's duration: a memory trend fitted over a few seconds is the
// start-up's growth, not a leak, so --quick does not shorten it below what
// the file asks.
func (e *Experiment) Quick(factor float64) (*Experiment, error) {
	if !(factor > 0 && factor <= 1) {
		return nil, fmt.Errorf("quick factor %g: want a factor above 0 and at most 1 (a run is never lengthened)", factor)
	}
	q := e.Clone()
	q.scaleTimeline(func(d *time.Duration) {
		if *d > 0 {
			*d = max(time.Duration(float64(*d)*factor), min(*d, QuickFloor))
		}
	})
	q.keepTrend(e)
	if err := q.Validate(); err != nil {
		return nil, err
	}
	return q, nil
}

// keepTrend undoes the scaling where orig's memory trend needs it
// (monitor.trend): the warm-up stays as e had it, and each scenario's
// duration at least orig.TrendFloor() (when it was that long), so the trend is
// fitted after the start-up over as long as the file asks.
func (e *Experiment) keepTrend(orig *Experiment) {
	floor := orig.TrendFloor()
	if floor == 0 {
		return
	}
	if orig.Warmup != nil {
		w := *orig.Warmup
		e.Warmup = &w
	}
	for i := range e.Scenarios {
		if d := &e.Scenarios[i].Duration; *d > 0 {
			*d = max(*d, min(orig.Scenarios[i].Duration, floor))
		}
	}
}

// scaleTimeline applies scale to every duration of the timeline (Quick
// lists them). The experiment is a Clone: its pointers are its own.
func (e *Experiment) scaleTimeline(scale func(*time.Duration)) {
	for i := range e.Scenarios {
		scaleScenario(&e.Scenarios[i], scale)
	}
	for i := range e.Faults {
		f := &e.Faults[i]
		scale(&f.StartTime)
		scale(&f.Duration)
		if f.Recovery != nil {
			f.Recovery.scale(scale)
		}
	}
	if e.Warmup != nil {
		scale(e.Warmup)
	}
	e.Recovery.scale(scale)
	if s := e.Stress; s != nil {
		scale(&s.Every)
		scale(&s.Settle)
	}
}

func scaleScenario(s *load.Scenario, scale func(*time.Duration)) {
	scale(&s.Duration)
	scale(&s.StartTime)
	scale(&s.MaxDuration)
	for j := range s.Stages {
		scale(&s.Stages[j].Duration)
	}
	for _, d := range []*time.Duration{s.GracefulStop, s.GracefulRampDown} {
		if d != nil {
			scale(d)
		}
	}
	for j := range s.Steps {
		if w := s.Steps[j].WS; w != nil {
			scale(&w.Hold)
		}
	}
}

func (r *Recovery) scale(scale func(*time.Duration)) {
	scale(&r.Within)
	scale(&r.Hold)
	scale(&r.Window)
}

// PlannedSpan is how long the load is planned to run: its scenarios' span,
// or for a stress run every level plus the recovery after overload (the run
// ends sooner when a level breaks early).
func (e *Experiment) PlannedSpan() time.Duration {
	s := e.Stress
	if s == nil {
		return load.Span(e.Scenarios)
	}
	return time.Duration(len(s.Levels()))*s.Every + e.Recovery.Observation()
}
