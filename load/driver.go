package load

import (
	"context"
	"time"
)

// Driver performs one step's operation for one VU. It sets res.Start just
// before the operation is sent and res.End when it completes (both from
// vu.Clock.Now()), and Class, Status, Err and Ack as the outcome says. The
// executor has filled in Scenario, Step, Protocol and Intended. Do must
// return when ctx is done.
type Driver interface {
	Do(ctx context.Context, vu *VU, step *Step, res *Result)
}

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
}

// Clock measures offsets from the start of the load on the monotonic clock.
type Clock struct {
	Epoch time.Time
}

// Now returns the time since the epoch.
func (c Clock) Now() time.Duration { return time.Since(c.Epoch) }

// At returns the wall-clock instant of an offset.
func (c Clock) At(d time.Duration) time.Time { return c.Epoch.Add(d) }
