package load

import (
	"context"
	"time"
)

// Driver performs one step's operation for one VU. The executor has filled
// in Scenario, Step, Protocol, Target, Tags, Intended and Dispatched. Do sets
// res.Start when the operation is actually sent and res.End when it has
// completed (response fully read), both from vu.Clock.Now(), and Class,
// Status, Err, Ack and the byte counts as the outcome says. A Start or End
// left unset (negative) is filled in by the executor. Do must return soon
// after ctx is done; a failure is recorded in res, never returned.
//
// Do is called from many VUs at once; per-VU state belongs in vu.State.
type Driver interface {
	Do(ctx context.Context, vu *VU, step *Step, res *Result)
}

// Clock measures offsets from the start of the load on the monotonic clock.
// Its Epoch must carry a monotonic reading (time.Now() does).
type Clock struct {
	Epoch time.Time
}

// Now returns the time since the epoch.
func (c Clock) Now() time.Duration { return time.Since(c.Epoch) }

// At returns the instant of an offset.
func (c Clock) At(d time.Duration) time.Time { return c.Epoch.Add(d) }

// IterationEnder is implemented by a Driver that keeps state for the length
// of one iteration (httpload: the connection of newConnection steps, closed
// when the iteration ends). The executor calls EndIteration after every
// iteration of a VU whose scenario has a step of that driver, whether the
// iteration completed or was cut by a stop, from the VU's goroutine.
type IterationEnder interface {
	EndIteration(vu *VU)
}
