package slo

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/metrics"
)

// TestRecoveryMatchesDefinition checks MeasureRecovery against a brute-force
// reading of its definition on random good/bad interval patterns: an interval is
// bad when all its operations fail, so with "errors: rate < 1%" a window is
// good exactly when it holds no bad interval.
func TestRecoveryMatchesDefinition(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	const iv = metrics.MaxInterval
	faultEnd := 10 * time.Second
	ths := config.Thresholds{th(t, "errors", "rate < 1%")}
	for i := range 300 {
		n := 20 + rng.IntN(80) // intervals of data after the fault
		bad := make([]bool, n)
		p := 0.05 + rng.Float64()*0.5
		for k := range bad {
			bad[k] = rng.Float64() < p
		}
		w, h := 1+rng.IntN(4), rng.IntN(9) // window and hold, in intervals
		within := time.Duration(1+rng.IntN(40)) * iv
		cfg := config.Recovery{Within: within, Hold: time.Duration(h) * iv, Window: time.Duration(w) * iv}
		if h == 0 {
			continue // zero hold means the default (10s)
		}
		r := patterned(faultEnd, bad)
		got := MeasureRecovery(r, ths, cfg, faultEnd, faultEnd+time.Duration(n)*iv)
		want := bruteRecovery(bad, w, h, int(within/iv))
		if got.Status != want.Status || got.Flaps != want.Flaps || got.Measured() && got.Time != want.Time {
			t.Fatalf("case %d (window %d, hold %d, within %v, pattern %s): got %s %v flaps %d, want %s %v flaps %d",
				i, w, h, within, show(bad), got.Status, got.Time, got.Flaps, want.Status, want.Time, want.Flaps)
		}
	}
}

// patterned records 4 operations per interval: failing during the fault
// (before faultEnd) and in the bad intervals after it.
func patterned(faultEnd time.Duration, bad []bool) *metrics.Recorder {
	iv := metrics.MaxInterval
	r := metrics.NewRecorder(metrics.Config{})
	for at := time.Duration(0); at < faultEnd+time.Duration(len(bad))*iv; at += iv / 4 {
		class := ""
		if k := int((at - faultEnd) / iv); at < faultEnd || bad[k] {
			class = load.ClassTimeout
		}
		r.Record(&load.Result{Intended: at, Start: at, End: at + time.Millisecond, Class: class})
	}
	return r
}

// bruteRecovery applies the definition literally, window by window.
func bruteRecovery(bad []bool, w, h, bound int) RecoveryResult {
	judged := len(bad) - w + 1 // windows lying wholly within the data
	good := func(k int) bool {
		for j := k; j < k+w; j++ {
			if bad[j] {
				return false
			}
		}
		return true
	}
	res := RecoveryResult{Status: NotRecovered}
	end := judged - 1
	for k := 0; k+h < judged; k++ {
		if all(k, k+h, good) {
			res.Status, res.Time, end = Recovered, time.Duration(k)*metrics.MaxInterval, k+h
			if k > bound {
				res.Status = RecoveredLate
			}
			break
		}
	}
	for j := 1; j <= min(end, bound+h); j++ {
		if good(j-1) && !good(j) {
			res.Flaps++
		}
	}
	if res.Status == NotRecovered {
		for k := 0; k <= bound; k++ {
			if k+h >= judged && all(k, min(k+h, judged-1), good) {
				res.Status = RecoveryPartial // could not be ruled out
			}
		}
	}
	return res
}

// all reports whether good holds for every k in [from, to].
func all(from, to int, good func(int) bool) bool {
	for k := from; k <= to; k++ {
		if !good(k) {
			return false
		}
	}
	return true
}

func show(bad []bool) string {
	b := make([]byte, len(bad))
	for i, x := range bad {
		b[i] = ".X"[map[bool]int{false: 0, true: 1}[x]]
	}
	return fmt.Sprint(string(b))
}
