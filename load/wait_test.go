package load

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

// TestPreciseWaitNeverEarly: a precise wait (timer, then the kernel's
// absolute sleep on CLOCK_MONOTONIC) returns only once the load's clock
// (Go's monotonic time) has reached the instant: the two clocks agree, so
// an arrival is never dispatched before its intended start (which would
// show as a negative generator lag). Waits span both sides of preciseSpan.
// No bound on lateness is asserted: that is BenchmarkPacing5000's.
func TestPreciseWaitNeverEarly(t *testing.T) {
	t.Parallel()
	c := Clock{Epoch: time.Now()}
	w := waiter{precise: true}
	defer w.stop()
	ctx := context.Background()
	for i := range 60 {
		at := c.Now() + time.Duration(i%6)*700*time.Microsecond // 0 … 3.5 ms ahead
		if !w.until(ctx, c, at) {
			t.Fatal("until returned false with a live context")
		}
		if now := c.Now(); now < at {
			t.Fatalf("wait %d woke %v early", i, at-now)
		}
	}
}

// TestPreciseWaitStops: a precise wait still ends as soon as its context
// is done while on the timer part.
func TestPreciseWaitStops(t *testing.T) {
	t.Parallel()
	c := Clock{Epoch: time.Now()}
	w := waiter{precise: true}
	defer w.stop()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if w.until(ctx, c, c.Now()+time.Hour) {
		t.Fatal("until returned true with a done context")
	}
}

// TestPreciseWaitVirtualClock: under testing/synctest the clock is
// virtual, so a precise wait sleeps on the timer alone: a 10 ms wait
// takes exactly 10 ms of virtual time (a kernel sleep would take real
// time and leave the virtual clock short of the instant).
func TestPreciseWaitVirtualClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := Clock{Epoch: time.Now()}
		if !synthetic(c) {
			t.Fatalf("epoch %v not recognised as synctest's", c.Epoch)
		}
		w := waiter{precise: true}
		defer w.stop()
		if !w.until(context.Background(), c, 10*time.Millisecond) || c.Now() != 10*time.Millisecond {
			t.Fatalf("virtual clock at %v after a 10ms wait", c.Now())
		}
	})
	if synthetic(Clock{Epoch: time.Now()}) {
		t.Fatal("the real clock taken for synctest's")
	}
}
