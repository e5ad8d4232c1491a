package slo

import (
	"strings"
	"testing"
	"time"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/load"
)

// failingFrom fails every operation from start on.
func failingFrom(start time.Duration) profile {
	return func(t time.Duration) (time.Duration, string) {
		if t >= start {
			return 5 * ms, load.ClassHTTP503
		}
		return 20 * ms, ""
	}
}

func TestAbortWatch(t *testing.T) {
	t.Parallel()
	failing40 := recorder(span{0, 120 * s, 200, failingFrom(40 * s)})
	failing0 := recorder(span{0, 120 * s, 200, failingFrom(0)})
	// failures only in [41s, 41.25s): the interval in progress at 41.2s
	burst := recorder(span{0, 41250 * ms, 200, func(t time.Duration) (time.Duration, string) {
		if t >= 41*s {
			return 5 * ms, load.ClassTimeout
		}
		return 20 * ms, ""
	}})
	// load stops at 40s
	stopped := recorder(span{0, 40 * s, 200, steady})
	tests := []struct {
		name   string
		src    Source
		key    string
		expr   string
		settle time.Duration
		now    time.Duration
		fired  bool
		reason string // substring
	}{
		// healthy so far
		{"healthy", failing40, "errors", "rate > 95% for 15s", 0, 30 * s, false, ""},
		// failing for 10 of the last 15 s: the aggregate is 67%
		{"not yet sustained", failing40, "errors", "rate > 95% for 15s", 0, 50 * s, false, ""},
		// failing for the whole trailing 15 s
		{"sustained", failing40, "errors", "rate > 95% for 15s", 0, 55 * s, true,
			"errors: rate > 95% for 15s held: rate = 100% (3000/3000) over 40s–55s"},
		// between ticks: the edge is the last interval boundary
		{"unaligned now", failing40, "errors", "rate > 95% for 15s", 0, 55100 * ms, true, "over 40s–55s"},
		// failing from the start, but 15 s of load have not run yet
		{"too early", failing0, "errors", "rate > 95% for 15s", 0, 10 * s, false, ""},
		// exactly 15 s of load
		{"just enough", failing0, "errors", "rate > 95% for 15s", 0, 15 * s, true, "over 0s–15s"},
		// without "for": the trailing second
		{"no for", failing40, "errors", "rate > 95%", 0, 41100 * ms, true, "over 40s–41s"},
		// the interval still being issued is left out
		{"in progress", burst, "errors", "rate > 20%", 0, 41200 * ms, false, ""},
		// once it is complete, it counts: 50 of 200 in [40.25s, 41.25s)
		{"complete", burst, "errors", "rate > 20%", 0, 41250 * ms, true, "rate = 25% (50/200)"},
		// settle pushes the edge back: [35s, 50s) at 55s
		{"settle", failing40, "errors", "rate > 95% for 15s", 5 * s, 55 * s, false, ""},
		// and forward again at 60s
		{"settled", failing40, "errors", "rate > 95% for 15s", 5 * s, 60 * s, true, "over 40s–55s"},
		// a window without operations never fires
		{"no data", stopped, "latency", "p(95) > 1s for 5s", 0, 60 * s, false, ""},
		// latency conditions work the same way
		{"latency", failing40, "latency", "p(50) < 10ms for 5s", 0, 50 * s, true, "latency: p(50) < 10ms for 5s held: p50 = 5ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := NewAbortWatch(config.Thresholds{th(t, tt.key, tt.expr)}, AbortConfig{Settle: tt.settle})
			fired, reason := w.Check(tt.src, tt.now)
			if fired != tt.fired || !strings.Contains(reason, tt.reason) {
				t.Errorf("Check(%v) = %v, %q; want %v, %q", tt.now, fired, reason, tt.fired, tt.reason)
			}
		})
	}
}

// TestAbortWatchFirstOfMany: the first condition that holds is reported.
func TestAbortWatchFirstOfMany(t *testing.T) {
	t.Parallel()
	w := NewAbortWatch(config.Thresholds{
		th(t, "latency", "p(95) > 1s for 5s"), // never: failures are fast
		th(t, "errors{class:http_503}", "count > 100 for 2s"),
	}, AbortConfig{})
	fired, reason := w.Check(recorder(span{0, 60 * s, 200, failingFrom(40 * s)}), 45*s)
	if !fired || !strings.HasPrefix(reason, "errors{class:http_503}: count > 100 for 2s held: count = 400") {
		t.Errorf("Check = %v, %q", fired, reason)
	}
}
