package runner

import (
	"sync"
	"time"

	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/metrics"
)

// faultEdges files the operations a fault met in flight under the fault.
//
// The recorder files a result in the interval of its intended start. An
// operation due before faults began to act and still running when they did
// (a query the reset cut, a request the killed service never answered) is
// a casualty of the faults, not a failure of the steady state before them;
// filed by its start it would count against that steady state, and how many
// there are is the rate times the operations' latency: a slow machine
// would fail a baseline that a fast one passes. faultEdges files such a
// result in the first interval that starts at or after the first of those
// faults was applied, which is the first interval of the fault phase. Its
// times, and so its latency, are unchanged.
//
// Until that fault is applied (an apply can take a while) such results wait
// here, copied; flush files what still waits when the load has ended.
type faultEdges struct {
	rec   *metrics.Recorder
	mu    sync.Mutex
	edges []edge // in the order the instants began to act
}

// edge is one instant of the timeline: when its faults began to act, and
// when the first of them was applied.
type edge struct {
	began, applied time.Duration
	known          bool          // applied is set
	waiting        []load.Result // results that met it, until applied is known
}

// acting records that an instant's faults begin to act at began
// (faults.Timeline.OnActing).
func (e *faultEdges) acting(began time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.edges = append(e.edges, edge{began: began})
}

// applied records that a fault was applied at at: the first apply of the
// latest instant that began by then settles where its results go.
func (e *faultEdges) applied(at time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := len(e.edges) - 1; i >= 0; i-- {
		ed := &e.edges[i]
		if ed.began > at {
			continue
		}
		if !ed.known {
			ed.known, ed.applied = true, at
			for j := range ed.waiting {
				e.rec.RecordAt(&ed.waiting[j], e.fileAt(at))
			}
			ed.waiting = nil
		}
		return
	}
}

// Record implements load.Sink.
func (e *faultEdges) Record(res *load.Result) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ed := e.met(res)
	switch {
	case ed == nil:
		e.rec.Record(res)
	case ed.known:
		e.rec.RecordAt(res, e.fileAt(ed.applied))
	default:
		ed.waiting = append(ed.waiting, *res)
	}
}

// met returns the first instant whose faults began to act after res was
// due and before it ended, nil when there is none.
func (e *faultEdges) met(res *load.Result) *edge {
	for i := range e.edges {
		if ed := &e.edges[i]; res.Intended < ed.began && ed.began < res.End {
			return ed
		}
	}
	return nil
}

// fileAt is the start of the first interval that starts at or after at.
func (e *faultEdges) fileAt(at time.Duration) time.Duration {
	iv := e.rec.Interval()
	return (at + iv - 1) / iv * iv
}

// flush files the results of instants whose faults were never applied (an
// apply that failed ends the run) by their intended start.
func (e *faultEdges) flush() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range e.edges {
		for j := range e.edges[i].waiting {
			e.rec.Record(&e.edges[i].waiting[j])
		}
		e.edges[i].waiting = nil
	}
}
