package metrics

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/chaosload/chaosload/load"
)

// Filer is where Edges files results: a Recorder, or a distributed run's
// worker outbox.
type Filer interface {
	Record(res *load.Result)
	RecordAt(res *load.Result, at time.Duration)
	Interval() time.Duration
}

// Edge is one instant of a fault timeline as the filing of results needs
// it: when its faults were due (their startTime), when they began to act
// (at or after Due) and when the first of them was applied. Times are
// offsets on the load's clock.
type Edge struct {
	Due     time.Duration `json:"due"`
	Began   time.Duration `json:"began"`
	Applied time.Duration `json:"applied"`
	// Begun says Began is set, Known that Applied is.
	Begun bool `json:"begun,omitempty"`
	Known bool `json:"known,omitempty"`
}

// Edges files the operations a fault met in flight under the fault.
//
// A recorder files a result in the interval of its intended start. An
// operation due before an instant's faults began to act and still running
// when they did (a query the reset cut, a request the killed service never
// answered) is a casualty of the faults, not a failure of the steady state
// before them; filed by its start it would count against that steady
// state, and how many there are is the rate times the operations' latency:
// a slow machine would fail a baseline that a fast one passes. Edges files
// such a result in the first interval that starts at or after the first of
// those faults was applied, which is the first interval of the fault
// phase. Its times, and so its latency, are unchanged. When it met several
// instants, the earliest due counts.
//
// A result waits here, copied, until where it goes is settled: while an
// instant it met has no apply yet (an apply can take a while), and while an
// instant that has not begun could have met it (it ended after that
// instant's due time: faults begin at or after it). One process tells
// Edges of its own timeline as it goes (Begin, Apply); a distributed run's
// worker hears the coordinator's edges later (Tell), and files by the same
// rule, so N workers file as one process does. Flush files what still
// waits, by intended start, when the load has ended (an apply that failed,
// an instant the run never reached). Safe for concurrent use.
type Edges struct {
	to Filer

	mu      sync.Mutex
	edges   []Edge        // one per instant, by Due
	waiting []load.Result // not settled yet
}

// NewEdges returns the edges of a timeline whose instants are due at dues
// (faults.Instants), filing into to.
func NewEdges(to Filer, dues []time.Duration) *Edges {
	e := &Edges{to: to}
	for _, d := range dues {
		e.edge(d)
	}
	return e
}

// Begin records that the faults of the instant due at due began to act at
// at (faults.Timeline.OnActing).
func (e *Edges) Begin(due, at time.Duration) {
	e.Tell([]Edge{{Due: due, Began: at, Begun: true}})
}

// Apply records that a fault of the instant due at due was applied at at;
// the first apply of an instant counts.
func (e *Edges) Apply(due, at time.Duration) {
	e.Tell([]Edge{{Due: due, Applied: at, Known: true}})
}

// Tell adds what edges say (a coordinator's Edges, heard by a worker):
// what is set in them and not yet here. It files the results this
// settles.
func (e *Edges) Tell(edges []Edge) {
	e.mu.Lock()
	defer e.mu.Unlock()
	changed := false
	for _, t := range edges {
		ed := e.edge(t.Due)
		if t.Begun && !ed.Begun {
			ed.Began, ed.Begun, changed = t.Began, true, true
		}
		if t.Known && !ed.Known {
			ed.Applied, ed.Known, changed = t.Applied, true, true
		}
	}
	if changed {
		e.release()
	}
}

// Edges returns the instants that have begun, by due time.
func (e *Edges) Edges() []Edge {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Edge
	for _, ed := range e.edges {
		if ed.Begun {
			out = append(out, ed)
		}
	}
	return out
}

// Record implements load.Sink.
func (e *Edges) Record(res *load.Result) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.file(res) {
		e.waiting = append(e.waiting, *res)
	}
}

// Flush files what still waits by its intended start.
func (e *Edges) Flush() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range e.waiting {
		e.to.Record(&e.waiting[i])
	}
	e.waiting = nil
}

// edge returns the instant due at due, added in its place if new.
func (e *Edges) edge(due time.Duration) *Edge {
	i, found := slices.BinarySearchFunc(e.edges, due, func(ed Edge, d time.Duration) int { return cmp.Compare(ed.Due, d) })
	if !found {
		e.edges = slices.Insert(e.edges, i, Edge{Due: due})
	}
	return &e.edges[i]
}

// release files every waiting result that is settled now.
func (e *Edges) release() {
	kept := e.waiting[:0]
	for i := range e.waiting {
		if !e.file(&e.waiting[i]) {
			kept = append(kept, e.waiting[i])
		}
	}
	clear(e.waiting[len(kept):])
	e.waiting = kept
}

// file files res if where it goes is settled, and says whether it was.
func (e *Edges) file(res *load.Result) bool {
	for i := range e.edges {
		ed := &e.edges[i]
		switch {
		case !ed.Begun && ed.Due < res.End:
			return false // it may yet have met it
		case !ed.Begun || res.Intended >= ed.Began || ed.Began >= res.End:
			continue // it did not meet this instant
		case !ed.Known:
			return false
		}
		iv := e.to.Interval()
		e.to.RecordAt(res, (ed.Applied+iv-1)/iv*iv)
		return true
	}
	e.to.Record(res)
	return true
}
