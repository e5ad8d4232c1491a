package slo

import (
	"time"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/metrics"
)

// The generator's own lateness (an operation's intended start → its
// hand-off to the driver) is in every latency the generator measures, and
// so in every check on one. A check stands when its result is the same with
// and without that lateness: judged a second time on the same operations
// less each one's own lateness (Spec.Net), it either agrees, and the
// generator could not have changed it, or it flips, and nothing can be
// concluded from it. Counts (errors, error classes, ops, dropped,
// connections) are the same both ways, so only checks on a duration that
// includes the lateness are judged twice.

// LatenessBound reports whether th reads a duration that includes the
// generator's own lateness (latency, dispatch_lag, ws_rtt, ws_connect), so
// that judging it without that lateness may change its result.
func LatenessBound(th config.Threshold) bool {
	def, ok := metrics.Defs[th.Metric.Name]
	return ok && th.Metric.Kind == config.Trend && def.Quantity.IncludesLateness()
}

// netWindow returns a window set over spans (in order, not overlapping) of
// the results less the generator's own lateness; nil without them.
func netWindow(net Source, spans []Span) *windowSet {
	if net == nil {
		return nil
	}
	return newWindowSet(spanSource(net, spans), spans[0].From, spans[len(spans)-1].To, nil)
}

// evaluateNet judges th on a window less lateness: nil when th does not
// depend on lateness or there is no such window.
func (w *windowSet) evaluateNet(th config.Threshold) *Observation {
	if w == nil || !LatenessBound(th) {
		return nil
	}
	obs := w.evaluate(th)
	return &obs
}

// MeasureRecoveryWithoutLateness is MeasureRecovery on net, the results
// less the generator's own lateness, when a steady-state threshold depends
// on that lateness; nil otherwise (or when net is nil): the recovery
// measured on the results as they are stands.
func MeasureRecoveryWithoutLateness(net Source, steady config.Thresholds, cfg config.Recovery, faultEnd, horizon time.Duration) *RecoveryResult {
	if net == nil || !anyLatenessBound(steady) {
		return nil
	}
	rr := MeasureRecovery(net, steady, cfg, faultEnd, horizon)
	return &rr
}

func anyLatenessBound(ths config.Thresholds) bool {
	for _, th := range ths {
		if LatenessBound(th) {
			return true
		}
	}
	return false
}

// Flipped reports whether the check's result depends on the generator: it
// was judged both ways and the results differ. Such a check neither passed
// nor failed.
func (c Check) Flipped() bool { return c.Net != nil && !c.Skipped && c.Net.Pass != c.Passed }

// Lateness is how much the generator's own lateness added to the observed
// value (the value with it less the value without it, in the value's unit:
// milliseconds for a duration); ok is false unless both were observed on
// data.
func (c Check) Lateness() (v float64, ok bool) {
	if c.Net == nil || c.Obs.NoData || c.Net.NoData || c.Obs.Label == "" || c.Net.Label == "" {
		return 0, false
	}
	return c.Obs.Value - c.Net.Value, true
}

// Flipped returns the checks whose result the generator's own lateness
// decides.
func (v Verdict) Flipped() []Check { return v.checks(Check.Flipped) }
