package gameday

import (
	"sync"
	"time"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/slo"
)

// RecoveryView is the live recovery timer: started when the last active
// fault is reverted, stopped when the file's steady-state thresholds hold
// again, as `chaosload run` measures it (slo.MeasureRecovery over the
// recorder's recent windows, with the file's recovery settings).
type RecoveryView struct {
	// State is "idle" (no fault reverted yet, or a fault active),
	// "measuring", "recovered" or "no-thresholds" (the file states no
	// steady state to return to).
	State string `json:"state"`
	// FaultEndS is the session offset of the revert, in seconds.
	FaultEndS float64 `json:"fault_end_s,omitempty"`
	// ElapsedS is the time since the revert while measuring, the recovery
	// time once recovered.
	ElapsedS float64 `json:"elapsed_s"`
	// WithinS is the bound judged.
	WithinS float64 `json:"within_s,omitempty"`
	Reason  string  `json:"reason,omitempty"`
}

type recoveryTracker struct {
	src    slo.Source
	steady config.Thresholds
	cfg    config.Recovery

	mu       sync.Mutex
	state    string
	faultEnd time.Duration
	result   slo.RecoveryResult
}

func newRecoveryTracker(src slo.Source, exp *config.Experiment) *recoveryTracker {
	return &recoveryTracker{src: src, steady: exp.Thresholds, cfg: exp.Recovery, state: "idle"}
}

// start begins measuring from faultEnd (the last revert).
func (r *recoveryTracker) start(faultEnd time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.faultEnd, r.result = faultEnd, slo.RecoveryResult{}
	r.state = "measuring"
	if len(r.steady) == 0 {
		r.state = "no-thresholds"
	}
}

// cancel stops measuring: a fault is active again.
func (r *recoveryTracker) cancel() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.state = "idle"
}

// check measures recovery over the complete intervals up to now; it
// returns true the first time recovery is found.
func (r *recoveryTracker) check(now time.Duration) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state != "measuring" {
		return false
	}
	horizon := now - now%r.src.Interval()
	r.result = slo.MeasureRecovery(r.src, r.steady, r.cfg, r.faultEnd, horizon)
	if r.result.Measured() {
		r.state = "recovered"
		return true
	}
	return false
}

func (r *recoveryTracker) view(now time.Duration) RecoveryView {
	r.mu.Lock()
	defer r.mu.Unlock()
	v := RecoveryView{State: r.state}
	if r.state == "idle" {
		return v
	}
	v.FaultEndS = r.faultEnd.Seconds()
	v.ElapsedS = (now - r.faultEnd).Round(time.Millisecond).Seconds()
	v.WithinS = r.result.Settings.Within.Seconds()
	v.Reason = r.result.Reason
	if r.state == "recovered" {
		v.ElapsedS = r.result.Time.Seconds()
	}
	return v
}
