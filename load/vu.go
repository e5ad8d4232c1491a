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
	// models (from the shared counter in shared-iterations), the arrival's
	// index in the scenario's schedule in open ones.
	Iteration int64

	pcg   rand.PCG
	res   Result // reused for every step: Sink must not retain it
	wait  waiter
	iters int64             // iterations this VU has taken (closed models)
	vars  map[string]string // extracted values, ${vu.NAME}; kept across iterations
	data  *DataSet          // the scenario's rows, nil when it has none
	row   []string          // this iteration's row of data
}

// newVU returns a VU seeded with (seed, stream).
func newVU(id int, sc *Scenario, c Clock, seed, stream uint64) *VU {
	vu := &VU{ID: id, Scenario: sc, Clock: c, State: map[any]any{}, data: sc.Rows}
	vu.pcg.Seed(seed, stream)
	vu.Rand = rand.New(&vu.pcg)
	return vu
}

// reseed restarts the VU's random source at (seed, stream).
func (vu *VU) reseed(seed, stream uint64) { vu.pcg.Seed(seed, stream) }

// Var returns the VU's variable NAME (${vu.NAME}), set by an extract of an
// earlier step, and whether it is set.
func (vu *VU) Var(name string) (string, bool) {
	v, ok := vu.vars[name]
	return v, ok
}

// SetVar sets the VU's variable NAME; later steps read it as ${vu.NAME}.
func (vu *VU) SetVar(name, value string) {
	if vu.vars == nil {
		vu.vars = map[string]string{}
	}
	vu.vars[name] = value
}

// Row returns the value of column of the VU's current data row, false when
// the scenario has no data or no such column.
func (vu *VU) Row(column string) (string, bool) {
	if vu.data == nil || vu.row == nil {
		return "", false
	}
	i, ok := vu.data.Column(column)
	if !ok || i >= len(vu.row) {
		return "", false
	}
	return vu.row[i], true
}

// UseData gives the VU a data set and its row, as an executor does at the
// start of an iteration; for drivers' tests.
func (vu *VU) UseData(d *DataSet, row int) {
	vu.data, vu.row = d, d.rows[row]
}
