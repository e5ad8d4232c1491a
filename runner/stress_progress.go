package runner

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/load"
)

// levelProgress reports a running stress level to Options.OnProgress every
// ProgressEvery until stop is called; stop waits for it.
func (r *run) levelProgress(ld *load.Load, level float64) (stop func()) {
	if r.opts.OnProgress == nil {
		return func() {}
	}
	every := r.opts.ProgressEvery
	if every <= 0 {
		every = time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		noFaults := &faults.Timeline{}
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			p := r.progress(r.m.clock.Now(), ld.Stats(), noFaults)
			p.Phase, p.Total = fmt.Sprintf("level %g %s", level, r.exp.Stress.UnitOrDefault()), r.stressSpan()
			r.opts.OnProgress(p)
		}
	})
	return func() { cancel(); wg.Wait() }
}

// stressSpan is the planned length of the stress run: every level and the
// recovery after overload.
func (r *run) stressSpan() time.Duration {
	s, rec := r.exp.Stress, r.exp.Recovery
	return time.Duration(len(s.Levels()))*s.Every + rec.Within + rec.Hold + rec.Window
}
