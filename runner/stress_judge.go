package runner

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/slo"
)

// summarizeStress finds the capacity, the breaking point and the operating
// point on the levels run.
func (r *run) summarizeStress(res *StressResult) {
	for i := range res.Levels {
		lv := &res.Levels[i]
		if !lv.Passed {
			res.BreakingPoint = ptrTo(lv.Level)
			res.BrokenBy = failedChecks(lv.Checks)
			break
		}
		res.Capacity = ptrTo(lv.Level)
	}
	if res.Capacity == nil {
		return
	}
	op := &OperatingPoint{Level: OperatingShare * *res.Capacity}
	for _, lv := range res.Levels {
		if lv.Level <= op.Level+1e-9 && lv.Passed {
			op.MeasuredAt, op.P95MS = ptrTo(lv.Level), ptrTo(lv.P95MS)
		}
	}
	res.OperatingPoint = op
}

// stressRecovery drops the load back to the recovery level right after the
// breaking point and measures, exactly like recovery from a fault, when the
// thresholds hold again: fault_end is the end of the breaking level.
func (r *run) stressRecovery(ctx context.Context, drivers map[load.Protocol]load.Driver, res *StressResult) error {
	st := r.exp.Stress
	rec := r.exp.Recovery
	level := st.RecoverAtOrDefault()
	res.RecoverAt = ptrTo(level)
	overloadEnd := r.nextStart(res.Levels[len(res.Levels)-1])
	length := rec.Within + rec.Hold + rec.Window + r.m.rec.Interval()
	if err := r.runLevel(ctx, drivers, level, overloadEnd, length); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return nil
	}
	ths, _ := slo.SplitSampled(r.exp.Thresholds)
	rr := slo.MeasureRecovery(r.m.rec, ths, rec, overloadEnd, overloadEnd+length)
	r.m.stressRecovery = &rr
	r.m.stressNetRecovery = slo.MeasureRecoveryWithoutLateness(r.m.rec.WithoutLateness(), ths, rec, overloadEnd, overloadEnd+length)
	if r.opts.OnEvent != nil {
		r.opts.OnEvent(Event{At: r.m.clock.Now(), Kind: "stress-recovery", Message: fmt.Sprintf(
			"back to %g %s after the breaking point: %s", level, st.UnitOrDefault(), recoveryWords(rr))})
	}
	return nil
}

func recoveryWords(rr slo.RecoveryResult) string {
	if rr.Passed() {
		return "recovered in " + rr.Time.Round(time.Millisecond).String()
	}
	return rr.Reason
}

// judgeStress fills the outcome of a stress run: the phases (each level,
// then the recovery), the recovery after overload, and the minimum
// capacity check when the file sets one.
func (r *run) judgeStress() {
	res := r.out.Stress
	if res == nil {
		return
	}
	for _, lv := range res.Levels {
		p := slo.Phase{Name: fmt.Sprintf("level %g", lv.Level), Start: secs(lv.StartS), End: secs(lv.EndS)}
		r.out.Phases = append(r.out.Phases, phaseStats(r.m.rec, p))
	}
	if rr := r.m.stressRecovery; rr != nil {
		r.out.Recovery = recovery(*rr, r.m.stressNetRecovery)
		r.out.Phases = append(r.out.Phases, phaseStats(r.m.rec, slo.Phase{Name: "after overload",
			Start: rr.FaultEnd, End: r.m.loadEnd}))
	}
	if side := r.m.side; side != nil && side.probes != nil {
		r.out.Probes = side.probes.results(r.m.loadEnd) // monitoring under stress, over the whole run
	}
	if minCap := r.exp.Stress.MinCapacity; minCap > 0 {
		c := Check{Name: fmt.Sprintf("stress: capacity >= %g", minCap), Phase: "stress",
			Expression: fmt.Sprintf("capacity >= %g", minCap), Observed: "no level held"}
		if res.Capacity != nil {
			c.Observed, c.Value = fmt.Sprintf("capacity = %g", *res.Capacity), res.Capacity
			c.Passed = *res.Capacity >= minCap
		}
		r.out.Checks = append(r.out.Checks, undecidedCapacity(c, res))
	}
	if r.out.Checks == nil {
		r.out.Checks = []Check{}
	}
	r.warnSaturatedLevels(res)
}

// undecidedCapacity makes a failed capacity check inconclusive when the
// level that broke broke only through the generator's own lateness: had it
// held, stepping would have gone on, so the capacity is not known. A
// capacity check that passed stands: no level above can lower it.
func undecidedCapacity(c Check, res *StressResult) Check {
	if c.Passed || res.BreakingPoint == nil {
		return c
	}
	for _, lv := range res.Levels {
		if lv.Level == *res.BreakingPoint && lv.Inconclusive {
			c.Inconclusive = true
			c.Observed += fmt.Sprintf("; level %g broke only through the generator's own lateness (%s)",
				lv.Level, strings.Join(lateFlips(lv.Checks), "; "))
		}
	}
	return c
}

// lateFlips says how each check of a level flipped: "latency: p(95) <
// 100ms: p95 = 117ms with the lateness, p95 = 97.8ms without".
func lateFlips(cs []Check) []string {
	var out []string
	for _, c := range cs {
		if c.Inconclusive && c.WithoutLateness != nil {
			out = append(out, fmt.Sprintf("%s: %s with the lateness, %s without", c.Name, c.Observed, c.WithoutLateness.Observed))
		}
	}
	return out
}

// warnSaturatedLevels says when the load generator was itself saturated on
// a level up to the breaking point: there the curve measures the machine
// the generator shares with the target as much as the target.
func (r *run) warnSaturatedLevels(res *StressResult) {
	var levels []string
	for _, lv := range res.Levels {
		if lv.GeneratorSaturated {
			levels = append(levels, fmt.Sprintf("%g", lv.Level))
		}
	}
	if len(levels) > 0 {
		r.out.Warnings = append(r.out.Warnings, fmt.Sprintf(
			"the load generator was saturated at level(s) %s: it started operations late on its own, so those levels' figures (and a breaking point among them) partly describe the generator; run the target on other cores or machines to separate them",
			strings.Join(levels, ", ")))
	}
}

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
