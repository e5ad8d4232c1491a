package runner

import (
	"testing"
	"time"
)

// TestPoolWait: the pool's counts over the load are the difference of two
// readings; none when a reading is missing or a counter went back (the
// service restarted and counts from zero again).
func TestPoolWait(t *testing.T) {
	t.Parallel()
	before := poolCounters{acquires: 100, waited: 10, wait: 20 * time.Millisecond}
	after := poolCounters{acquires: 1100, waited: 60, wait: 270 * time.Millisecond}
	got := poolWait(before, after, true, true)
	if got == nil || *got != (PoolWait{Acquires: 1000, Waited: 50, WaitMS: 250}) {
		t.Fatalf("poolWait: %+v, want 1000 acquires, 50 waited 250 ms", got)
	}
	for _, tc := range []struct {
		name          string
		before, after poolCounters
		okB, okA      bool
	}{
		{"no reading before", before, after, false, true},                                 // the stack could not be read
		{"no reading after", before, after, true, false},                                  // nor at the end
		{"restarted", before, poolCounters{acquires: 50, waited: 1, wait: 0}, true, true}, // counters from zero again
	} {
		if got := poolWait(tc.before, tc.after, tc.okB, tc.okA); got != nil {
			t.Errorf("%s: %+v, want none", tc.name, got)
		}
	}
}
