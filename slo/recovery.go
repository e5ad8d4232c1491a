package slo

import (
	"time"

	"github.com/chaosload/chaosload/config"
)

// RecoveryStatus is the outcome of a recovery measurement.
type RecoveryStatus string

// The recovery outcomes.
const (
	// RecoveryNotApplicable: no fault, or no steady-state threshold to
	// recover to.
	RecoveryNotApplicable RecoveryStatus = "not-applicable"
	// Recovered: steady state was back within the bound.
	Recovered RecoveryStatus = "recovered"
	// RecoveredLate: steady state came back, but after the bound.
	RecoveredLate RecoveryStatus = "recovered-late"
	// NotRecovered: steady state was not back by the bound, nor by the end
	// of the data.
	NotRecovered RecoveryStatus = "not-recovered"
	// RecoveryPartial: the data ended before it could be decided whether
	// steady state was back within the bound (an interrupted run).
	RecoveryPartial RecoveryStatus = "partial"
)

// RecoveryResult is the measured return to steady state after the last
// fault. Offsets (Time, FirstGood, Blocker.At) are from FaultEnd.
type RecoveryResult struct {
	Status RecoveryStatus
	// FaultEnd is when the last revert completed.
	FaultEnd time.Duration
	// Settings are the bound, hold and window judged (defaults applied).
	Settings config.Recovery
	// Time is recovery_time − fault_end, when Measured.
	Time time.Duration
	// FirstGood is the start of the first window on which every threshold
	// held, when HasFirstGood.
	FirstGood    time.Duration
	HasFirstGood bool
	// Flaps counts good → bad transitions of consecutive windows before
	// recovery (or, without recovery in time, up to the bound's hold).
	Flaps int
	// Blocker is what kept the service from recovering within the bound,
	// when it did not.
	Blocker *Blocker
	// Reason says it in a sentence: "recovered in 3.5s", "not recovered
	// within 30s: latency p95 still 340ms at +30s", "...; recovered late,
	// at +41.25s", "partial: the data ends +12s after the fault, ...".
	Reason string
}

// Blocker is a threshold that failed on a window that mattered.
type Blocker struct {
	Threshold config.Threshold
	Obs       Observation
	// At is the window's start.
	At time.Duration
}

// Passed reports whether the recovery bound was met.
func (r RecoveryResult) Passed() bool { return r.Status == Recovered }

// Applicable reports whether recovery was measured at all: there was a
// fault and a steady state to recover to. A runner warns when it was, under
// closed-model load (a stalled dependency lowers the offered load there,
// which hides recovery problems).
func (r RecoveryResult) Applicable() bool { return r.Status != RecoveryNotApplicable }

// Measured reports whether a recovery point was found (in time or late).
func (r RecoveryResult) Measured() bool {
	return r.Status == Recovered || r.Status == RecoveredLate
}

// MeasureRecovery measures how long after faultEnd every steady-state
// threshold holds again, as docs/outcome.md defines it: recovery_time is the
// earliest t ≥ fault_end such that every threshold holds on every window of
// length cfg.Window starting in [t, t+cfg.Hold]; it passes when
// t − fault_end ≤ cfg.Within. Zero settings take config's defaults.
//
// Candidates t and window starts step by the source's interval from the
// first interval boundary at or after faultEnd (so recovery time is exact
// to one interval), and a window covers whole intervals:
//
//	fault_end  t (= recovery_time)     t+hold
//	   │       │                         │
//	   ▼       ▼ [──window──)            ▼
//	   ·bad·bad·[──window──)  …  [──window──)      every window starting in
//	           ·good·good·good·good·good·good·      [t, t+hold] holds
//
// Data is read up to horizon, the load end: every result intended before it
// must have been recorded, and only windows ending by it are judged.
func MeasureRecovery(src Source, steady config.Thresholds, cfg config.Recovery, faultEnd, horizon time.Duration) RecoveryResult {
	cfg = recoveryDefaults(cfg)
	res := RecoveryResult{FaultEnd: faultEnd, Settings: cfg}
	if len(steady) == 0 {
		res.Status, res.Reason = RecoveryNotApplicable, "not measured: no steady-state thresholds"
		return res
	}
	step := src.Interval()
	start := alignUp(faultEnd, step) // the first candidate t
	sc := &scan{
		j:     newWindowJudge(src, steady, start, alignUp(cfg.Window, step), step, horizon),
		holds: int(cfg.Hold / step),
		bound: int(alignDown(faultEnd+cfg.Within-start, step) / step), // -1 when within < start-faultEnd
	}
	sc.run()
	return sc.result(res)
}

// recoveryDefaults fills zero settings with config's defaults, as config
// does.
func recoveryDefaults(c config.Recovery) config.Recovery {
	if c.Within <= 0 {
		c.Within = config.DefaultWithin
	}
	if c.Hold <= 0 {
		c.Hold = config.DefaultHold
	}
	if c.Window <= 0 {
		c.Window = config.DefaultWindow
	}
	return c
}

// result fills res from a finished scan.
func (s *scan) result(res RecoveryResult) RecoveryResult {
	offset := func(k int) time.Duration { return s.j.at(k) - res.FaultEnd }
	res.Flaps = s.flaps
	if s.firstGood >= 0 {
		res.FirstGood, res.HasFirstGood = offset(s.firstGood), true
	}
	switch {
	case s.recovered >= 0 && s.recovered <= s.bound:
		res.Status, res.Time = Recovered, offset(s.recovered)
		res.Reason = "recovered in " + showSeconds(res.Time)
		return res
	case s.recovered >= 0:
		res.Status, res.Time = RecoveredLate, offset(s.recovered)
	case s.undecided():
		res.Status = RecoveryPartial
	default:
		res.Status = NotRecovered
	}
	if k := s.blocker(); k >= 0 {
		v := s.j.verdict(k)
		res.Blocker = &Blocker{Threshold: s.j.ths[v.failed], Obs: v.obs, At: offset(k)}
	}
	res.Reason = s.reason(res)
	return res
}

// reason says why the bound was missed and by how much.
func (s *scan) reason(res RecoveryResult) string {
	within := showSeconds(res.Settings.Within)
	if res.Status == RecoveryPartial {
		msg := "partial: the data ends " + showOffset(s.j.horizon-res.FaultEnd) +
			" after the fault, before recovery within " + within + " could be confirmed"
		if res.Blocker != nil {
			msg += " (last failing: " + res.Blocker.describe(false) + ")"
		}
		return msg
	}
	msg := "not recovered within " + within
	if res.Blocker != nil {
		still := res.Blocker.At == s.j.at(max(s.bound, 0))-res.FaultEnd
		msg += ": " + res.Blocker.describe(still)
	}
	if res.Status == RecoveredLate {
		msg += "; recovered late, at " + showOffset(res.Time)
	}
	return msg
}

// describe renders the blocker: "latency p95 still 340ms at +30s".
func (b *Blocker) describe(still bool) string {
	what := b.Threshold.Key + " "
	switch {
	case b.Obs.NoData:
		what += "had " + b.Obs.Shown
	case still:
		what += b.Obs.Label + " still " + b.Obs.Shown
	default:
		what += b.Obs.String()
	}
	return what + " at " + showOffset(b.At)
}
