package slo

import (
	"strings"
	"testing"
	"time"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/load"
)

// slowUntil is a service at 200 ms before end (from 40 s, the fault), 20 ms
// otherwise.
func slowUntil(end time.Duration) profile {
	return func(t time.Duration) (time.Duration, string) {
		if t >= 40*s && t < end {
			return 200 * ms, ""
		}
		return 20 * ms, ""
	}
}

// decaying is the fault at 40–70 s (200 ms), then a decay from 200 ms to
// 110 ms (still too slow) until 73.5 s, then 20 ms.
func decaying(t time.Duration) (time.Duration, string) {
	switch {
	case t >= 40*s && t < 70*s:
		return 200 * ms, ""
	case t >= 70*s && t < 73500*ms:
		return 200*ms - time.Duration(float64(90*ms)*(t-70*s).Seconds()/3.5), ""
	}
	return 20 * ms, ""
}

// flapping looks recovered after the fault, then is slow again twice:
// slow 40–70 s, 72–72.5 s and 75–75.5 s.
func flapping(t time.Duration) (time.Duration, string) {
	switch {
	case t >= 40*s && t < 70*s, t >= 72*s && t < 72500*ms, t >= 75*s && t < 75500*ms:
		return 200 * ms, ""
	}
	return 20 * ms, ""
}

// failingUntil fails half the operations from 40 s to end.
func failingUntil(end time.Duration) profile {
	return func(t time.Duration) (time.Duration, string) {
		if t >= 40*s && t < end && (t/(5*ms))%2 == 0 {
			return 5 * ms, load.ClassHTTP503
		}
		return 20 * ms, ""
	}
}

// timingOut times out (5 s) every request issued during the fault: the
// results arrive after the fault has ended, but belong to it.
func timingOut(t time.Duration) (time.Duration, string) {
	if t >= 40*s && t < 70*s {
		return 5 * s, load.ClassTimeout
	}
	return 20 * ms, ""
}

func TestMeasureRecovery(t *testing.T) {
	t.Parallel()
	short := config.Recovery{Within: 30 * s, Hold: 2 * s, Window: s}
	tests := []struct {
		name      string
		spans     []span
		faultEnd  time.Duration
		horizon   time.Duration
		cfg       config.Recovery // zero: defaults 30s/10s/5s
		ths       config.Thresholds
		status    RecoveryStatus
		lo, hi    time.Duration // recovery time in [lo, hi]
		flaps     int           // -1: not checked
		firstGood time.Duration // -1: not checked
		reason    string        // substring
	}{
		// the brief's case: slow until 73.5 s, fault ended at 70 s: 3.5 s ± one interval
		{"decay", []span{{0, 130 * s, 200, decaying}}, 70 * s, 130 * s, config.Recovery{}, nil,
			Recovered, 3250 * ms, 3750 * ms, 0, -1, "recovered in 3."},
		// healthy as soon as the fault ends: recovery time 0
		{"instant", []span{{0, 130 * s, 200, slowUntil(70 * s)}}, 70 * s, 130 * s, config.Recovery{}, nil,
			Recovered, 0, 0, 0, 0, "recovered in 0s"},
		// requests issued in the fault time out after it ended: charged to the fault
		{"timeouts belong to the fault", []span{{0, 130 * s, 200, timingOut}}, 70 * s, 130 * s, config.Recovery{}, nil,
			Recovered, 0, 0, 0, 0, "recovered in 0s"},
		// errors: 50% failing until 75 s
		{"errors", []span{{0, 130 * s, 200, failingUntil(75 * s)}}, 70 * s, 130 * s, config.Recovery{}, nil,
			Recovered, 5 * s, 5 * s, 0, 5 * s, "recovered in 5s"},
		// a fault end between interval boundaries: the first boundary after it
		{"unaligned fault end", []span{{0, 130 * s, 200, slowUntil(70100 * ms)}}, 70100 * ms, 130 * s, config.Recovery{}, nil,
			Recovered, 150 * ms, 150 * ms, 0, 150 * ms, "recovered in 0.15s"},
		// a bound shorter than the way to the next boundary: no candidate is in time
		{"bound before first candidate", []span{{0, 130 * s, 200, slowUntil(70100 * ms)}}, 70100 * ms, 130 * s,
			config.Recovery{Within: 100 * ms}, nil, RecoveredLate, 150 * ms, 150 * ms, 0, 150 * ms, "recovered late, at +0.15s"},
		// good, bad, good, bad, then good for good: two flaps, recovered after the last
		{"flapping", []span{{0, 130 * s, 200, flapping}}, 70 * s, 130 * s, short, nil,
			Recovered, 5500 * ms, 5500 * ms, 2, 0, "recovered in 5.5s"},
		// never recovers: how far off, naming the threshold, at the bound
		{"never", []span{{0, 130 * s, 200, slowUntil(time.Hour)}}, 70 * s, 130 * s, config.Recovery{}, nil,
			NotRecovered, 0, 0, 0, -1, "not recovered within 30s: latency p95 still 200ms at +30s"},
		// recovers after the bound: failed, and by how much (the window at
		// 104.75 s is 5% slow, which p95 tolerates)
		{"late", []span{{0, 130 * s, 200, slowUntil(105 * s)}}, 70 * s, 130 * s, config.Recovery{}, nil,
			RecoveredLate, 34750 * ms, 34750 * ms, 0, 34750 * ms, "still 200ms at +30s; recovered late, at +34.75s"},
		// errors never recover: the error threshold is named
		{"errors never", []span{{0, 130 * s, 200, failingUntil(time.Hour)}}, 70 * s, 130 * s, config.Recovery{}, nil,
			NotRecovered, 0, 0, 0, -1, "errors rate still 50% (500/1000) at +30s"},
		// no operations after the fault until 80 s: empty windows fail; the
		// first window holding load again, [75.25s, 80.25s), is judged on it
		{"no load", []span{{0, 70 * s, 200, slowUntil(70 * s)}, {80 * s, 130 * s, 200, steady}}, 70 * s, 130 * s,
			config.Recovery{}, nil, Recovered, 5250 * ms, 5250 * ms, 0, 5250 * ms, "recovered in 5.25s"},
		// no operations at all after the fault, to the end
		{"no load ever", []span{{0, 70 * s, 200, slowUntil(70 * s)}}, 70 * s, 130 * s, config.Recovery{}, nil,
			NotRecovered, 0, 0, 0, -1, "latency had no data at +30s"},
		// the run was cut short while still slow: undecided
		{"partial", []span{{0, 82 * s, 200, slowUntil(time.Hour)}}, 70 * s, 82 * s, config.Recovery{}, nil,
			RecoveryPartial, 0, 0, 0, -1, "partial: the data ends +12s after the fault"},
		// cut short, but healthy for window+hold already: decided
		{"short but enough", []span{{0, 86 * s, 200, slowUntil(70 * s)}}, 70 * s, 86 * s, config.Recovery{}, nil,
			Recovered, 0, 0, 0, 0, "recovered in 0s"},
		// cut short one interval before the hold could be confirmed
		{"one interval short", []span{{0, 84750 * ms, 200, slowUntil(70 * s)}}, 70 * s, 84750 * ms, config.Recovery{}, nil,
			RecoveryPartial, 0, 0, 0, 0, "partial"},
		// a run that ended before the fault ended
		{"no data after fault", []span{{0, 60 * s, 200, steady}}, 70 * s, 60 * s, config.Recovery{}, nil,
			RecoveryPartial, 0, 0, 0, -1, "partial"},
		// nothing to recover to
		{"no thresholds", []span{{0, 130 * s, 200, steady}}, 70 * s, 130 * s, config.Recovery{}, config.Thresholds{},
			RecoveryNotApplicable, 0, 0, 0, -1, "no steady-state thresholds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ths := tt.ths
			if ths == nil {
				ths = steadyState(t)
			}
			got := MeasureRecovery(recorder(tt.spans...), ths, tt.cfg, tt.faultEnd, tt.horizon)
			if got.Status != tt.status {
				t.Fatalf("status %s, want %s (%s)", got.Status, tt.status, got.Reason)
			}
			if got.Measured() && (got.Time < tt.lo || got.Time > tt.hi) {
				t.Errorf("recovery time %v, want in [%v, %v]", got.Time, tt.lo, tt.hi)
			}
			if tt.flaps >= 0 && got.Flaps != tt.flaps {
				t.Errorf("flaps %d, want %d", got.Flaps, tt.flaps)
			}
			if tt.firstGood >= 0 && (!got.HasFirstGood || got.FirstGood != tt.firstGood) {
				t.Errorf("first good %v (%v), want %v", got.FirstGood, got.HasFirstGood, tt.firstGood)
			}
			if !strings.Contains(got.Reason, tt.reason) {
				t.Errorf("reason %q, want it to contain %q", got.Reason, tt.reason)
			}
			if got.Passed() != (tt.status == Recovered) {
				t.Errorf("Passed() = %v", got.Passed())
			}
		})
	}
}

// TestRecoveryBlocker checks the structured blocker behind the message.
func TestRecoveryBlocker(t *testing.T) {
	t.Parallel()
	r := recorder(span{0, 130 * s, 200, func(t time.Duration) (time.Duration, string) {
		if t >= 40*s {
			return 340 * ms, ""
		}
		return 20 * ms, ""
	}})
	got := MeasureRecovery(r, steadyState(t), config.Recovery{}, 70*s, 130*s)
	b := got.Blocker
	if b == nil || b.Threshold.Key != "latency" || b.At != 30*s || b.Obs.Value < 340 || b.Obs.Value > 340.5 {
		t.Fatalf("blocker %+v", b)
	}
	if want := "not recovered within 30s: latency p95 still 340ms at +30s"; got.Reason != want {
		t.Errorf("reason %q, want %q", got.Reason, want)
	}
}
