package metrics

import (
	"errors"
	"testing"
	"time"

	"github.com/chaosload/chaosload/load"
)

// TestEdgesFileCasualtiesUnderTheFault: an operation in flight when faults
// began to act is filed in the first interval of the fault phase (at or
// after the first apply), whether it ended before or after the apply was
// known; every other operation by its intended start; one that waited on
// an apply that never came, by its intended start too.
func TestEdgesFileCasualtiesUnderTheFault(t *testing.T) {
	const s = time.Second
	rec := NewRecorder(Config{})
	iv := rec.Interval()
	e := NewEdges(rec, []time.Duration{8 * s, 20 * s})
	began, applied := 8*s+time.Millisecond, 8*s+3*time.Millisecond // applied inside the interval that starts at 8 s
	firstFault := (applied + iv - 1) / iv * iv                     // the first interval starting at or after the apply

	e.Record(op(7*s, 7*s+10*time.Millisecond)) // before: by its start
	e.Begin(8*s, began)
	e.Record(op(8*s-100*time.Millisecond, 8*s+2*time.Millisecond)) // met the faults, ended before the apply was known: waits
	e.Apply(8*s, applied)
	e.Record(op(8*s-50*time.Millisecond, 8*s+200*time.Millisecond)) // met the faults, ended after
	e.Record(op(8*s+10*time.Millisecond, 8*s+20*time.Millisecond))  // due after they began: by its start

	e.Begin(20*s, 20*s) // never applied (the run ended)
	e.Record(op(20*s-time.Millisecond, 20*s+time.Millisecond))
	e.Flush()

	count := func(from, to time.Duration) int64 { return rec.Window(from, to, Selector{}).Ops }
	if n := count(0, 8*s); n != 1 {
		t.Errorf("%d operations before the faults, want 1 (the one that ended before them)", n)
	}
	if n := count(firstFault, firstFault+iv); n != 2 {
		t.Errorf("%d operations in the fault's first interval, want the 2 casualties", n)
	}
	if n := count(firstFault+iv, 19*s); n != 0 {
		t.Errorf("%d operations after the fault's first interval, want 0", n)
	}
	if n := count(8*s, firstFault); n != 1 {
		t.Errorf("%d operations in the interval of the apply, want the one due after the faults began", n)
	}
	if n := count(19*s, 21*s); n != 1 {
		t.Errorf("%d operations around 20 s, want the one that waited on an apply that never came", n)
	}
}

// TestEdgesWaitForAnInstantNotYetBegun: a result that ended after an
// instant's due time waits until the instant is heard of (a worker hears
// its coordinator later), then goes where one process would have filed
// it: under the fault when it met the faults, by its start when they
// began after it ended; a result that ended by the due time never waits.
func TestEdgesWaitForAnInstantNotYetBegun(t *testing.T) {
	const s = time.Second
	rec := NewRecorder(Config{})
	iv := rec.Interval()
	e := NewEdges(rec, []time.Duration{4 * s})
	began, applied := 4*s+50*time.Millisecond, 4*s+2*iv+time.Millisecond
	e.Record(op(4*s-10*time.Millisecond, 4*s))                     // ended at the due time: by its start, now
	e.Record(op(4*s-10*time.Millisecond, 4*s+20*time.Millisecond)) // the faults began after it ended
	e.Record(op(4*s-20*time.Millisecond, 4*s+90*time.Millisecond)) // met them
	if n := rec.Window(0, time.Minute, Selector{}).Ops; n != 1 {
		t.Fatalf("%d operations filed before the instant was heard of, want 1", n)
	}
	e.Tell([]Edge{{Due: 4 * s, Began: began, Begun: true}})
	if n := rec.Window(0, time.Minute, Selector{}).Ops; n != 2 {
		t.Fatalf("%d operations filed once the instant began, want 2 (the casualty waits for the apply)", n)
	}
	e.Tell([]Edge{{Due: 4 * s, Began: began, Begun: true, Applied: applied, Known: true}})
	if n := rec.Window(0, 4*s, Selector{}).Ops; n != 2 {
		t.Errorf("%d operations before the faults, want the 2 that ended before they began", n)
	}
	fault := (applied + iv - 1) / iv * iv
	if n := rec.Window(fault, fault+iv, Selector{}).Ops; n != 1 {
		t.Errorf("%d operations in the fault's first interval, want the casualty", n)
	}
	if got := e.Edges(); len(got) != 1 || got[0].Applied != applied || got[0].Began != began {
		t.Errorf("Edges() = %+v, want the one instant as told", got)
	}
}

// op is a failed operation intended at intended that ended at end.
func op(intended, end time.Duration) *load.Result {
	return &load.Result{Scenario: "s", Step: "get", Intended: intended, Start: intended, End: end,
		Class: "conn_reset", Err: errors.New("reset")}
}
