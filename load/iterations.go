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
	take, vus := e.perVU, e.seg.Share(e.sc.VUs)
	if e.sc.Executor == SharedIterations {
		take = e.sharedTake
		if e.seg.Share(e.sc.Iterations) > 0 {
			vus = max(vus, 1) // its iterations need a VU, even past VUs workers
		}
	}
	var wg sync.WaitGroup
	for range vus {
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

// sharedTake hands a VU the next iteration of the shared counter (of
// the segment's iterations: the counter's j-th is the global j·Count+Index).
func (e *iterations) sharedTake(vu *VU) bool {
	i := e.seg.Global(e.shared.Add(1) - 1)
	if i >= int64(e.sc.Iterations) {
		return false
	}
	vu.Iteration = i
	return true
}
