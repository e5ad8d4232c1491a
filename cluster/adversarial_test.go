package cluster

import (
	"slices"
	"testing"
	"time"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/load"
)

// The adversarial cases: what judging each worker's own segment (k6-operator,
// its issue #115: "aggregate it yourself") gets wrong, and the merged
// verdict gets right.
//
// A note on percentiles: when every worker's own p99 is under a bound, so
// is the merged p99, whatever the split: the merged distribution is the
// mixture F = Σ wᵢ·Fᵢ, and Fᵢ(x) ≥ 0.99 for every i gives F(x) ≥ 0.99 (in
// whole counts as well: Σ⌈0.99·nᵢ⌉ ≥ ⌈0.99·Σnᵢ⌉). So "every worker's p99
// passes, the merged p99 fails" cannot happen. What can happen is the
// opposite, when the slow arrivals all land on one worker, and, for counts,
// every worker passing while the run fails.

// adversarialLoad is 400 arrivals over 2 s, 100 on each of 4 workers.
var adversarialLoad = load.Scenario{Name: "s", Executor: load.ConstantArrivalRate, Rate: 200,
	Duration: 2 * time.Second, PreAllocatedVUs: 100,
	Steps: []load.Step{{Name: "get", Target: "api", HTTP: &load.HTTPRequest{URL: "http://127.0.0.1:1/"}}}}

// judgeParts judges each part alone and their merge against ths.
func judgeParts(t *testing.T, p profile, ths ...config.Threshold) (parts []bool, merged verdict) {
	t.Helper()
	var frames []Frame
	for i := range 4 {
		rec, fs := runSegment(t, adversarialLoad, p, load.Segment{Index: i, Count: 4})
		parts = append(parts, judgeOnly(t, rec, ths).Passed)
		frames = append(frames, fs...)
	}
	return parts, judgeOnly(t, mergeFrames(t, frames), ths)
}

// TestSlowArrivalsOnOneWorker: the slow arrivals are every 200th (k ≡ 0 mod
// 4 all of them: worker 0's), 2 of 400, 0.5% of the run: the run's p99 is
// fast and the merged verdict passes, while worker 0's own segment, 2% slow,
// fails its p99; a per-worker gate would fail a service that met its bound.
func TestSlowArrivalsOnOneWorker(t *testing.T) {
	slow := func(i int64) (time.Duration, string) {
		if i%200 == 0 {
			return 500 * time.Millisecond, ""
		}
		return 10 * time.Millisecond, ""
	}
	parts, merged := judgeParts(t, slow, threshold(t, "latency", "p(99) < 100ms"))
	if want := []bool{false, true, true, true}; !slices.Equal(parts, want) {
		t.Fatalf("per-worker verdicts %v, want %v (only worker 0 fails)", parts, want)
	}
	if !merged.Passed {
		t.Fatalf("merged verdict %s, want passed", merged)
	}
	t.Logf("per-worker passed %v; merged %s", parts, merged)
}

// TestEveryWorkerPassesMergedFails: every 25th arrival fails, 16 of 400,
// 4 on each worker: each worker's own `errors: count < 10` passes, the
// run's 16 errors fail it, and so does the merged verdict.
func TestEveryWorkerPassesMergedFails(t *testing.T) {
	failing := func(i int64) (time.Duration, string) {
		if i%25 == 0 {
			return 10 * time.Millisecond, load.ClassHTTP5xx
		}
		return 10 * time.Millisecond, ""
	}
	parts, merged := judgeParts(t, failing, threshold(t, "errors", "count < 10"))
	if want := []bool{true, true, true, true}; !slices.Equal(parts, want) {
		t.Fatalf("per-worker verdicts %v, want %v (every worker passes)", parts, want)
	}
	if merged.Passed {
		t.Fatalf("merged verdict %s, want failed", merged)
	}
	t.Logf("per-worker passed %v; merged %s", parts, merged)
}
