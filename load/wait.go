package load

import (
	"context"
	"time"
)

// waiter sleeps until an offset on the load's clock. It keeps one timer for
// its owner's lifetime, so a wait allocates nothing; one goroutine owns it.
//
// A timer per wait is accurate to the runtime's timer resolution (tens of
// microseconds on a busy Linux process, up to about a millisecond on an idle
// one); the scheduler makes up for a late wake by dispatching every arrival
// already due before it waits again, and the lateness is recorded as
// dispatch lag rather than hidden.
type waiter struct{ t *time.Timer }

// until returns true once the clock reaches at, false as soon as ctx is done.
// An offset already past returns at once.
func (w *waiter) until(ctx context.Context, c Clock, at time.Duration) bool {
	d := at - c.Now()
	if d <= 0 {
		return ctx.Err() == nil
	}
	if w.t == nil {
		w.t = time.NewTimer(d)
	} else {
		w.t.Reset(d)
	}
	select {
	case <-w.t.C:
		return true
	case <-ctx.Done():
		w.t.Stop()
		return false
	}
}

// stop releases the timer.
func (w *waiter) stop() {
	if w.t != nil {
		w.t.Stop()
	}
}
