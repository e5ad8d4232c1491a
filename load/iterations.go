package load

import (
	"context"
	"sync"
)

// iterations is the closed-model executor of per-vu-iterations and
// shared-iterations: VUs VUs start together at StartTime and loop, each
// next iteration intended at the previous one's end plus its think time,
// until the iterations run out or MaxDuration has passed (then, as at any
// scenario's end, running iterations get GracefulStop to finish).
//
//	per-vu-iterations: each VU runs its own iterations 0 … Iterations−1
//	shared-iterations: VUs take the next number of one shared counter, so a
//	                   fast VU runs more of them; Iterations in all
type iterations struct{ *scenarioRun }

// run implements executor.
func (e *iterations) run(ctx context.Context) {
	end := e.sc.Span()
	soft, hard, cancel := stopContexts(ctx, e.clock, end, *e.sc.GracefulStop)
	defer cancel()
	var w waiter
	defer w.stop()
	if !w.until(soft, e.clock, e.sc.StartTime) {
		return
	}
	take := e.perVU
	if e.sc.Executor == SharedIterations {
		take = e.sharedTake
	}
	var wg sync.WaitGroup
	for range e.sc.VUs {
		vu := e.newVU()
		e.stats.vus.Add(1)
		wg.Go(func() {
			defer e.stats.vus.Add(-1)
			e.loop(soft, hard, vu, e.sc.StartTime, end, take)
		})
	}
	wg.Wait()
}

// perVU hands a VU its own iterations 0 … Iterations−1.
func (e *iterations) perVU(vu *VU) bool {
	return vu.iters < int64(e.sc.Iterations) && endless(vu)
}

// sharedTake hands a VU the next iteration of the shared counter.
func (e *iterations) sharedTake(vu *VU) bool {
	i := e.shared.Add(1) - 1
	if i >= int64(e.sc.Iterations) {
		return false
	}
	vu.Iteration = i
	return true
}
