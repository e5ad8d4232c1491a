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
	s.pickRow(vu)
	defer s.endIteration(vu)
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

// pickRow gives vu the row of data of its next iteration: the next of the
// scenario's shared counter (round-robin) or a draw from the VU's source.
func (s *scenarioRun) pickRow(vu *VU) {
	d := s.sc.Rows
	if d == nil {
		return
	}
	var i int
	if s.sc.DataOrder == Random {
		i = vu.Rand.IntN(len(d.rows))
	} else {
		i = int(s.seg.Global(s.nextRow.Add(1)-1) % int64(len(d.rows)))
	}
	vu.row = d.rows[i]
}

// endIteration tells the drivers that want to know that vu's iteration
// ended.
func (s *scenarioRun) endIteration(vu *VU) {
	for _, e := range s.enders {
		e.EndIteration(vu)
	}
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
	if s.health != nil {
		s.health.observe(res.Intended, res.GeneratorLag())
	}
	s.sink.Record(res)
	s.stats.ops.Add(1)
	return res.End
}
