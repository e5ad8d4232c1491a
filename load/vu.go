package load

import "math/rand/v2"

// VU is one virtual user. A VU runs one iteration at a time, so its fields
// need no locking within a driver.
type VU struct {
	// ID is unique within a run, starting at 1.
	ID int
	// Scenario is the scenario the VU belongs to.
	Scenario *Scenario
	// Clock is the load's clock.
	Clock Clock
	// State holds per-driver state (a connection per VU, say), keyed by a
	// key of the driver's own type.
	State map[any]any
	// Rand is the VU's random source, drawn from the run's seed: per VU in
	// closed models, re-seeded per arrival in open models (from the arrival's
	// index), so the same seed repeats the same think times and choices.
	Rand *rand.Rand
	// Iteration is the current iteration: counted per VU from 0 in closed
	// models, the arrival's index in the scenario's schedule in open ones.
	Iteration int64

	pcg  rand.PCG
	res  Result // reused for every step: Sink must not retain it
	wait waiter
}

// newVU returns a VU seeded with (seed, stream).
func newVU(id int, sc *Scenario, c Clock, seed, stream uint64) *VU {
	vu := &VU{ID: id, Scenario: sc, Clock: c, State: map[any]any{}}
	vu.pcg.Seed(seed, stream)
	vu.Rand = rand.New(&vu.pcg)
	return vu
}

// reseed restarts the VU's random source at (seed, stream).
func (vu *VU) reseed(seed, stream uint64) { vu.pcg.Seed(seed, stream) }
