package load

import (
	"context"
	"time"
)

// waiter sleeps until an offset on the load's clock. It keeps one timer for
// its owner's lifetime, so a wait allocates nothing; one goroutine owns it.
//
// A Go timer is as accurate as the runtime's netpoller lets it be: on Linux
// an idle process sleeps in epoll_wait with whole milliseconds, so a
// sub-millisecond wait wakes up to 1 ms late (measured at 5,000 arrivals/s:
// generator lag p50 0.54 ms, p99 1.1-1.4 ms; BenchmarkPacing5000). The
// scheduler makes up for a late wake by dispatching every arrival already
// due before it waits again, and the lateness is recorded as generator lag
// rather than hidden. A precise waiter (the arrival schedule's: one per
// scenario, never a VU's think time) sleeps on the timer only until
// preciseSpan before the instant and the rest in the kernel
// (clock_nanosleep with an absolute deadline, Linux; wait_linux.go):
// measured at 5,000/s for 20 s on the 2-core machine when quiet, lag p50
// 0.09 ms against 0.53 ms on the timer alone, p99 0.19-0.44 ms against
// 1.07 ms; when busy (load average 6-8) p50 0.09-0.10 against 0.57-0.60 ms,
// p99 1.4-16 ms against 20-71 ms (the machine's contention either way). It is
// off under testing/synctest, whose clock is virtual (see synthetic).
type waiter struct {
	t       *time.Timer
	precise bool
}

// preciseSpan is the final stretch of a precise wait slept in the kernel.
const preciseSpan = 2 * time.Millisecond

// precisePacing turns precise waits on; BenchmarkPacing5000 compares both.
var precisePacing = true

// until returns true once the clock reaches at, false as soon as ctx is done.
// An offset already past returns at once.
func (w *waiter) until(ctx context.Context, c Clock, at time.Duration) bool {
	d := at - c.Now()
	if d <= 0 {
		return ctx.Err() == nil
	}
	fine := w.precise && precisePacing && canSleepPrecisely && !synthetic(c)
	if fine {
		d -= preciseSpan
	}
	if d > 0 && !w.sleep(ctx, d) {
		return false
	}
	if fine {
		sleepUntil(c, at)
	}
	return ctx.Err() == nil
}

// sleep waits d on the timer, false as soon as ctx is done.
func (w *waiter) sleep(ctx context.Context, d time.Duration) bool {
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

// synthetic reports whether c runs on testing/synctest's virtual clock,
// whose time starts at 2000-01-01 UTC: the kernel's clock does not move it.
func synthetic(c Clock) bool { return c.Epoch.Year() < 2001 }

// stop releases the timer.
func (w *waiter) stop() {
	if w.t != nil {
		w.t.Stop()
	}
}
