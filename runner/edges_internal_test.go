package runner

import (
	"errors"
	"testing"
	"time"

	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/metrics"
)

// TestFaultEdgesFileCasualtiesUnderTheFault: an operation in flight when
// faults began to act is filed in the first interval of the fault phase
// (at or after the first apply), whether it ended before or after the
// apply was known; every other operation by its intended start; one that
// waited on an apply that never came, by its intended start too.
func TestFaultEdgesFileCasualtiesUnderTheFault(t *testing.T) {
	const s = time.Second
	rec := metrics.NewRecorder(metrics.Config{})
	iv := rec.Interval()
	e := &faultEdges{rec: rec}
	op := func(intended, end time.Duration) *load.Result {
		return &load.Result{Scenario: "s", Step: "get", Intended: intended, Start: intended, End: end,
			Class: "conn_reset", Err: errors.New("reset")}
	}
	began, applied := 8*s, 8*s+3*time.Millisecond // applied inside the interval that starts at 8 s
	firstFault := (applied + iv - 1) / iv * iv    // the first interval starting at or after the apply

	e.Record(op(7*s, 7*s+10*time.Millisecond)) // before: by its start
	e.acting(began)
	e.Record(op(8*s-100*time.Millisecond, 8*s+time.Millisecond)) // met the faults, ended before the apply was known: waits
	e.applied(applied)
	e.Record(op(8*s-50*time.Millisecond, 8*s+200*time.Millisecond)) // met the faults, ended after
	e.Record(op(8*s+10*time.Millisecond, 8*s+20*time.Millisecond))  // due after they began: by its start

	e.acting(20 * s) // never applied (the run ended)
	e.Record(op(20*s-time.Millisecond, 20*s+time.Millisecond))
	e.flush()

	count := func(from, to time.Duration) int64 { return rec.Window(from, to, metrics.Selector{}).Ops }
	if n := count(0, began); n != 1 {
		t.Errorf("%d operations before the faults, want 1 (the one that ended before them)", n)
	}
	if n := count(firstFault, firstFault+iv); n != 2 {
		t.Errorf("%d operations in the fault's first interval, want the 2 casualties", n)
	}
	if n := count(firstFault+iv, 19*s); n != 0 {
		t.Errorf("%d operations after the fault's first interval, want 0", n)
	}
	if n := count(began, firstFault); n != 1 {
		t.Errorf("%d operations in the interval of the apply, want the one due after the faults began", n)
	}
	if n := count(19*s, 21*s); n != 1 {
		t.Errorf("%d operations around 20 s, want the one that waited on an apply that never came", n)
	}
}
