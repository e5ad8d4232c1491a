package cluster

import (
	"slices"
	"testing"
	"time"

	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/metrics"
)

// cutOf returns the frames of cut seq of worker/attempt holding ops results
// in interval 0, through an Outbox.
func cutOf(t *testing.T, worker, attempt int, seq int64, ops int) Frame {
	t.Helper()
	o := NewOutbox(worker, attempt, metrics.Config{})
	for s := int64(0); s <= seq; s++ {
		for range ops {
			o.Record(&load.Result{Scenario: "s", Step: "get", Intended: 0, End: time.Millisecond})
		}
		fs, err := o.Cut()
		if err != nil || len(fs) != 1 || fs[0].Seq != s {
			t.Fatalf("cut: %v (%d frames)", err, len(fs))
		}
		if s == seq {
			return fs[0]
		}
	}
	panic("unreachable")
}

func TestCollectorAddsEachKeyOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		frames []Frame
		want   int64 // ops merged
	}{
		// a frame sent twice counts once
		{"duplicate", []Frame{cutOf(t, 0, 1, 0, 3), cutOf(t, 0, 1, 0, 3)}, 3},
		// two cuts of one interval add up
		{"two cuts", []Frame{cutOf(t, 0, 1, 0, 3), cutOf(t, 0, 1, 1, 5)}, 8},
		// two workers add up
		{"two workers", []Frame{cutOf(t, 0, 1, 0, 3), cutOf(t, 1, 1, 0, 4)}, 7},
		// only the attempt that sent first counts
		{"other attempt ignored", []Frame{cutOf(t, 0, 2, 0, 3), cutOf(t, 0, 1, 0, 4)}, 3},
	}
	for _, tt := range tests {
		c := NewCollector(metrics.NewRecorder(metrics.Config{}))
		for _, f := range tt.frames {
			if _, err := c.Add(f); err != nil {
				t.Fatal(err)
			}
		}
		if got := c.Recorder().Window(0, time.Second, metrics.Selector{}).Ops; got != tt.want {
			t.Errorf("%s: %d ops, want %d", tt.name, got, tt.want)
		}
	}
}

func TestCollectorRefusesOtherIntervalLength(t *testing.T) {
	t.Parallel()
	c := NewCollector(metrics.NewRecorder(metrics.Config{Interval: 100 * time.Millisecond}))
	if _, err := c.Add(cutOf(t, 0, 1, 0, 1)); err == nil {
		t.Fatal("a frame of 250ms intervals was added to a collector of 100ms")
	}
}

// TestAcksTravelOnce: the ids a worker's operations acknowledged reach the
// collector with their frames, once however often a frame is sent.
func TestAcksTravelOnce(t *testing.T) {
	t.Parallel()
	o := NewOutbox(0, 1, metrics.Config{})
	o.Record(&load.Result{Step: "order", Intended: 0, End: time.Millisecond, Ack: "a"})
	o.Record(&load.Result{Step: "order", Intended: time.Second, End: time.Second + time.Millisecond, Ack: "b"})
	// a fault's casualty, filed in the fault's interval (metrics.Edges): its
	// ack travels with that interval's frame, the only one it has a cell in
	o.RecordAt(&load.Result{Step: "order", Intended: 0, End: 3 * time.Second, Ack: "c"}, 2*time.Second)
	fs, err := o.Cut()
	if err != nil {
		t.Fatal(err)
	}
	c := NewCollector(metrics.NewRecorder(metrics.Config{}))
	for _, f := range append(fs, fs...) {
		if _, err := c.Add(f); err != nil {
			t.Fatal(err)
		}
	}
	if got := c.Acks()["order"]; !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("acks %v, want [a b c]", got)
	}
}
