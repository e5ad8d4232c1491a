package load

import (
	"context"
	"sync"
	"time"
)

// constantVUs is the closed-model executor with a fixed VU count: each VU
// loops iterations from StartTime until the scenario's duration has passed.
type constantVUs struct{ *scenarioRun }

// run implements executor.
func (e *constantVUs) run(ctx context.Context) {
	end := e.sc.Span()
	soft, hard, cancel := stopContexts(ctx, e.clock, end, *e.sc.GracefulStop)
	defer cancel()
	var w waiter
	defer w.stop()
	if !w.until(soft, e.clock, e.sc.StartTime) {
		return
	}
	var wg sync.WaitGroup
	for range e.seg.Share(e.sc.VUs) {
		vu := e.newVU()
		e.stats.vus.Add(1)
		wg.Go(func() {
			defer e.stats.vus.Add(-1)
			e.loop(soft, hard, vu, e.sc.StartTime, end, endless)
		})
	}
	wg.Wait()
}

// loop runs iterations back to back on vu, the first intended at `intended`,
// while the next is intended before end, soft is not done and take hands
// out another iteration (setting vu.Iteration).
func (s *scenarioRun) loop(soft, hard context.Context, vu *VU, intended, end time.Duration, take func(*VU) bool) {
	defer vu.wait.stop()
	for intended < end && soft.Err() == nil && take(vu) {
		next, ok := s.iterate(soft, hard, vu, intended)
		if !ok {
			return
		}
		intended = next
	}
}

// endless hands a VU its own iterations 0, 1, 2, … without end.
func endless(vu *VU) bool {
	vu.Iteration = vu.iters
	vu.iters++
	return true
}
