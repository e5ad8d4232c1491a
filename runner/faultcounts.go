package runner

import (
	"fmt"
	"time"

	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/proxy"
)

// lateTolerance is how late (or short) a fault may take effect before the
// outcome says so: the recorder's interval, below which the phases judged
// cannot change.
const lateTolerance = 250 * time.Millisecond

// recordFaults copies the timeline's records into the outcome, with what
// each fault did to traffic, and judges the faults' effects.
func (r *run) recordFaults(recs []faults.Record) {
	for _, rec := range recs {
		f := FaultResult{
			Name: rec.Name, Kind: rec.Kind, Target: rec.Target,
			DueS:         seconds(rec.Due),
			ApplyBeganS:  secondsPtr(rec.ApplyBegan, rec.WasApplied || rec.ApplyErr != nil),
			AppliedS:     secondsPtr(rec.Applied, rec.WasApplied),
			RevertDueS:   secondsPtr(rec.RevertDue, rec.WasReverted),
			RevertBeganS: secondsPtr(rec.RevertBegan, rec.WasReverted),
			RevertedS:    secondsPtr(rec.Reverted, rec.WasReverted),
			ApplyMS:      float64(rec.ApplyTook.Microseconds()) / 1000,
			RevertMS:     float64(rec.RevertTook.Microseconds()) / 1000,
		}
		f.ExpectEffect, f.Selection = rec.ExpectEffect, r.selections[rec.Name]
		r.timeliness(&f, rec)
		if rec.WasApplied {
			f.Effect = r.faultEffect(rec)
			f.Injected, f.Delayed, f.Uninspectable = f.Effect.RequestsErrored, f.Effect.RequestsDelayed, r.uninspectable(rec)
		}
		switch {
		case rec.ApplyErr != nil:
			f.Error = "apply: " + rec.ApplyErr.Error()
		case rec.RevertErr != nil:
			f.Error = "revert: " + rec.RevertErr.Error()
			r.out.Errors = append(r.out.Errors, fmt.Sprintf("fault %q could not be reverted: %v", rec.Name, rec.RevertErr))
		}
		r.out.Faults = append(r.out.Faults, f)
	}
	r.warnNoEffect()
}

// timeliness sets how late the fault took effect and how much shorter than
// its duration it was in effect, and warns when either exceeds
// lateTolerance.
func (r *run) timeliness(f *FaultResult, rec faults.Record) {
	if !rec.WasApplied {
		return
	}
	if late := rec.Applied - rec.Due; late > lateTolerance {
		f.LateS = seconds(late)
		r.out.Warnings = append(r.out.Warnings, fmt.Sprintf("fault %q took effect %.1fs late: due at %.1fs, its apply began at %.1fs and completed at %.1fs",
			rec.Name, late.Seconds(), rec.Due.Seconds(), rec.ApplyBegan.Seconds(), rec.Applied.Seconds()))
	}
	if rec.Duration == 0 || !rec.WasReverted || rec.RevertDue < rec.Due+rec.Duration {
		return // one-shot, until the end, or cut short by the run's end (said elsewhere)
	}
	inEffect := rec.RevertBegan - rec.Applied
	if short := rec.Duration - inEffect; short > lateTolerance {
		f.ShortS = seconds(short)
		r.out.Warnings = append(r.out.Warnings, fmt.Sprintf("fault %q was in effect for %.1fs of its %s (%.1fs short)",
			rec.Name, inEffect.Seconds(), rec.Duration, short.Seconds()))
	}
}

// faultEffect is what the target's proxy counted for the fault, with what
// a pool exhaustion held at the server.
func (r *run) faultEffect(rec faults.Record) *FaultEffect {
	e := &FaultEffect{}
	if rec.Host != nil {
		e.Host, e.Changed = rec.Host, hostChanged(rec.Host)
		return e
	}
	for _, rep := range r.replicas[rec.Target] {
		if fs, ok := rep.p.Stats().Faults[rec.Name]; ok {
			fillEffect(e, fs)
		}
	}
	if h := rec.Hold; h != nil {
		e.SlotsHeld, e.HoldAttempts, e.HoldRefused = h.Peak, h.Attempts, h.Refused
	}
	e.Changed = e.ConnsRefused+e.ConnsReset+e.ConnsQueued+e.ConnsDelayed+e.RequestsErrored+e.RequestsDelayed+
		e.ChunksDelayed+e.BytesHeld+e.BytesDropped+e.ServerRefused > 0 || e.PacketsDropped > 0
	return e
}

// fillEffect adds what one proxy counted for the fault to e: a fault on
// several replicas sums theirs.
func fillEffect(e *FaultEffect, fs proxy.FaultStats) {
	e.ConnsSelected += fs.Selected
	e.ConnsRefused, e.ConnsReset = e.ConnsRefused+fs.ConnsRefused, e.ConnsReset+fs.ConnsReset
	e.ConnsQueued, e.ConnsDelayed = e.ConnsQueued+fs.ConnsQueued, e.ConnsDelayed+fs.ConnsDelayed
	e.RequestsErrored, e.RequestsDelayed = e.RequestsErrored+fs.RequestsErrored, e.RequestsDelayed+fs.RequestsDelayed
	e.ChunksDelayed, e.DelayS = e.ChunksDelayed+fs.ChunksDelayed, e.DelayS+fs.InjectedDelay.Seconds()
	e.BytesHeld, e.BytesDropped = e.BytesHeld+fs.BytesHeld, e.BytesDropped+fs.BytesDropped
	e.PacketsDropped += fs.DroppedUp + fs.DroppedDown
	e.ServerRefused, e.ServerAdmitted, e.Admissions = e.ServerRefused+fs.ServerRefused, e.ServerAdmitted+fs.ServerAdmitted, e.Admissions+fs.Admissions
}

// uninspectable is the connections a protocol-aware fault left alone.
func (r *run) uninspectable(rec faults.Record) int64 {
	var n int64
	for _, rep := range r.replicas[rec.Target] {
		n += rep.p.Stats().Faults[rec.Name].Uninspectable
	}
	return n
}
