package load

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// rampingVUs is the closed-model executor whose VU count follows Stages. One
// controller goroutine walks the ramp plan, starting VUs (their first
// iteration intended at the instant the ramp adds them) and retiring the
// newest ones on a ramp down: a retired VU starts no new iteration, and its
// current one is cancelled GracefulRampDown later if still running.
type rampingVUs struct {
	*scenarioRun
	plan   []vuChange
	active []*rampVU // in start order; retire pops from the end
	timers []*time.Timer
	wg     sync.WaitGroup
}

// rampVU is a VU the controller can retire.
type rampVU struct {
	vu         *VU
	cancelSoft context.CancelFunc
	cancelHard context.CancelCauseFunc
}

// errRampDownBound cancels the iteration of a VU ramped down that outlived
// GracefulRampDown; it is a deadline, so what it cuts is a timeout.
var errRampDownBound = fmt.Errorf("gracefulRampDown passed: %w", context.DeadlineExceeded)

func newRampingVUs(s *scenarioRun) *rampingVUs {
	return &rampingVUs{scenarioRun: s, plan: rampPlan(*s.sc.StartVUs, s.sc.Stages)}
}

// run implements executor.
func (e *rampingVUs) run(ctx context.Context) {
	end := e.sc.Span()
	soft, hard, cancel := stopContexts(ctx, e.clock, end, *e.sc.GracefulStop)
	defer cancel()
	var w waiter
	defer w.stop()
	if w.until(soft, e.clock, e.sc.StartTime) {
		e.scale(hard, *e.sc.StartVUs, e.sc.StartTime, end)
		for _, c := range e.plan {
			at := e.sc.StartTime + c.At
			if !w.until(soft, e.clock, at) {
				break
			}
			e.scale(hard, c.Count, at, end)
		}
		w.until(soft, e.clock, end)
	}
	e.scale(hard, 0, end, end) // the end: every VU finishes within gracefulStop
	e.wg.Wait()
	for _, t := range e.timers {
		t.Stop()
	}
}

// scale starts or retires VUs until this segment's share of n are active
// (the global VUs 0 … n−1 that are its own); a started VU's first iteration
// is intended at `at`.
func (e *rampingVUs) scale(hard context.Context, n int, at, end time.Duration) {
	n = e.seg.Share(n)
	for len(e.active) < n {
		e.start(hard, at, end)
	}
	for len(e.active) > n {
		r := e.active[len(e.active)-1]
		e.active = e.active[:len(e.active)-1]
		e.stats.vus.Add(-1)
		r.cancelSoft()
		if at < end { // a ramp down, not the end: bound the last iteration
			bound := time.Until(e.clock.At(at + *e.sc.GracefulRampDown))
			e.timers = append(e.timers, time.AfterFunc(bound, func() { r.cancelHard(errRampDownBound) }))
		}
	}
}

// start starts one VU looping from at.
func (e *rampingVUs) start(hard context.Context, at, end time.Duration) {
	vuHard, cancelHard := context.WithCancelCause(hard)
	vuSoft, cancelSoft := context.WithCancel(vuHard)
	r := &rampVU{e.newVU(), cancelSoft, cancelHard}
	e.active = append(e.active, r)
	e.stats.vus.Add(1)
	e.wg.Go(func() {
		defer cancelHard(nil)
		e.loop(vuSoft, vuHard, r.vu, at, end, endless)
	})
}
