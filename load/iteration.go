package load

import (
	"context"
	"errors"
	"time"
)

// iterate runs the scenario's steps once, in order, on vu, the first step
// intended at `intended`. Each later step is intended at the previous step's
// end plus its think time, so even a closed-model VU measures every delay
// between when it meant to act and when it did.
//
// Failure policy: a failed step is recorded (Class set) and the iteration
// goes on with the next step, as k6 does. Only a stop ends an iteration
// early: the steps and the thinks between them run under hard; the think
// after the last step runs under soft, since an iteration whose work is done
// need not hold up a stop.
//
// iterate returns when the VU's next iteration is intended (the last step's
// end plus its think) and whether this one ran to its end.
func (s *scenarioRun) iterate(soft, hard context.Context, vu *VU, intended time.Duration) (time.Duration, bool) {
	s.stats.started.Add(1)
	s.stats.busy.Add(1)
	defer s.stats.busy.Add(-1)
	last := len(s.sc.Steps) - 1
	for i := range s.sc.Steps {
		end := s.step(hard, vu, i, intended)
		if hard.Err() != nil {
			break
		}
		intended = end + s.sc.Steps[i].Think.Draw(vu.Rand)
		if i == last {
			vu.wait.until(soft, s.clock, intended)
			s.stats.completed.Add(1)
			return intended, true
		}
		if !vu.wait.until(hard, s.clock, intended) {
			break
		}
	}
	s.stats.interrupted.Add(1)
	return intended, false
}

// step performs step i on vu, records its Result and returns when it ended.
func (s *scenarioRun) step(ctx context.Context, vu *VU, i int, intended time.Duration) time.Duration {
	st := &s.sc.Steps[i]
	res := &vu.res
	*res = Result{
		Scenario: s.sc.Name, Step: st.Name, Protocol: st.Protocol(), Target: st.Target, Tags: s.sc.Tags,
		Intended: intended, Start: -1, End: -1,
	}
	res.Dispatched = s.clock.Now()
	s.drivers[i].Do(ctx, vu, st, res)
	if res.End < 0 {
		res.End = s.clock.Now()
	}
	if res.Start < 0 {
		res.Start = res.Dispatched
	}
	if res.Class == ClassOther && ctx.Err() != nil && errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
		res.Class = ClassTimeout // cut by a stop's bound (graceful stop, ramp down): it took too long
	}
	s.sink.Record(res)
	s.stats.ops.Add(1)
	return res.End
}
