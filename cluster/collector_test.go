package cluster

import (
	"testing"
	"time"

	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/metrics"
)

// frameOf returns a frame of worker/attempt holding ops results in
// interval 0.
func frameOf(t *testing.T, worker, attempt int, seq int64, ops int) Frame {
	t.Helper()
	rec := metrics.NewRecorder(metrics.Config{})
	for range ops {
		rec.Record(&load.Result{Scenario: "s", Step: "get", Intended: 0, End: time.Millisecond})
	}
	fs, err := Cut(rec, worker, attempt, 0, 0, seq)
	if err != nil || len(fs) != 1 {
		t.Fatalf("cut: %v (%d frames)", err, len(fs))
	}
	return fs[0]
}

func TestCollectorKeepsLatestOfOneAttempt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		frames []Frame
		want   int64 // ops merged
	}{
		// a frame sent twice counts once
		{"duplicate", []Frame{frameOf(t, 0, 1, 0, 3), frameOf(t, 0, 1, 0, 3)}, 3},
		// a later cut of the same interval replaces the earlier one
		{"newer replaces", []Frame{frameOf(t, 0, 1, 0, 3), frameOf(t, 0, 1, 1, 5)}, 5},
		// an older cut arriving late is ignored
		{"stale ignored", []Frame{frameOf(t, 0, 1, 1, 5), frameOf(t, 0, 1, 0, 3)}, 5},
		// two workers add up
		{"two workers", []Frame{frameOf(t, 0, 1, 0, 3), frameOf(t, 1, 1, 0, 4)}, 7},
		// only the attempt that sent first counts
		{"other attempt ignored", []Frame{frameOf(t, 0, 2, 0, 3), frameOf(t, 0, 1, 0, 4)}, 3},
	}
	for _, tt := range tests {
		c := NewCollector(0)
		for _, f := range tt.frames {
			if _, err := c.Add(f); err != nil {
				t.Fatal(err)
			}
		}
		rec, err := c.Recorder()
		if err != nil {
			t.Fatal(err)
		}
		if got := rec.Window(0, time.Second, metrics.Selector{}).Ops; got != tt.want {
			t.Errorf("%s: %d ops, want %d", tt.name, got, tt.want)
		}
	}
}

func TestCollectorRefusesOtherIntervalLength(t *testing.T) {
	t.Parallel()
	c := NewCollector(100 * time.Millisecond)
	if _, err := c.Add(frameOf(t, 0, 1, 0, 1)); err == nil {
		t.Fatal("a frame of 250ms intervals was added to a collector of 100ms")
	}
}
