package load

import "fmt"

// Segment is the part of the load one worker of a distributed run offers:
// worker Index of Count. The zero value (and any Count ≤ 1) is the whole
// load, as one process runs it.
//
// A segment stripes one global plan rather than cutting time or rate in
// pieces, so the union of every worker's segment is exactly the one-process
// load:
//
//	open model    arrival k of the scenario's schedule    → worker k mod Count
//	closed model  VU v (v = 0, 1, … in start order)       → worker v mod Count
//
// Every worker walks the whole arrival schedule (a Poisson one is drawn from
// the same seed in each, so each sees the same global sequence) and offers
// only its own arrivals, each with its global index: the random draws of an
// arrival, seeded by that index, are the same whichever worker makes it.
// A closed-model VU keeps its global number as its random stream, so its
// think times are the same too.
//
// What a segment means per executor:
//
//   - constant-vus, per-vu-iterations: the worker runs the VUs v ≡ Index.
//   - ramping-vus: at every instant the plan wants c VUs, VUs 0 … c−1 run in
//     the whole load, so the worker runs those of them ≡ Index (a ramp up
//     adds the global VU c on worker c mod Count; a ramp down retires the
//     newest VU, wherever it is). Each worker follows the one global plan:
//     the union of the running VUs is the one-process population at every
//     change.
//   - shared-iterations: the worker takes the shared iterations ≡ Index (in
//     its own order): their union is exactly Iterations, but a fast worker
//     cannot take a slow one's, as a fast VU can within one process. A
//     worker that owns iterations runs at least one VU, even when there are
//     more workers than VUs.
//   - arrival rates: the worker's VU pool is its share of PreAllocatedVUs
//     and MaxVUs (at least one): the union is exact while no arrival is
//     dropped, and a worker drops against its own pool only.
//   - round-robin data rows: the worker's n-th row is row n·Count+Index.
type Segment struct {
	Index, Count int
}

// whole reports whether s is the whole load.
func (s Segment) whole() bool { return s.Count <= 1 }

// Check returns an error unless 0 ≤ Index < Count (or s is the zero value).
func (s Segment) Check() error {
	if s.Count < 0 || (s.Count == 0 && s.Index != 0) || (s.Count > 0 && (s.Index < 0 || s.Index >= s.Count)) {
		return fmt.Errorf("segment %d of %d: want 0 ≤ index < count", s.Index, s.Count)
	}
	return nil
}

// Owns reports whether element k of a global sequence (an arrival's index,
// a VU's number) belongs to the segment.
func (s Segment) Owns(k int64) bool {
	return s.whole() || k%int64(s.Count) == int64(s.Index)
}

// Share returns how many of the elements 0 … n−1 belong to the segment.
func (s Segment) Share(n int) int {
	if s.whole() {
		return n
	}
	if n <= s.Index {
		return 0
	}
	return (n-s.Index-1)/s.Count + 1
}

// Global returns the global number of the segment's j-th element (from 0).
func (s Segment) Global(j int64) int64 {
	if s.whole() {
		return j
	}
	return j*int64(s.Count) + int64(s.Index)
}
