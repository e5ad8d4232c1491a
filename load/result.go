package load

import "time"

// Result is what one operation did. A failed operation is data (Class), never
// an error returned. Times are offsets from the start of the load on the
// monotonic clock, so they order and subtract exactly:
//
//	Intended ──dispatch lag──▶ Start ──service time──▶ End
//	Intended ───────────────── latency ──────────────▶ End
//
// Intended is when the schedule wanted the operation to begin (the arrival
// time, or the end of the previous step's think time), so a stalled target
// or a busy generator shows in latency: there is no coordinated omission.
type Result struct {
	Scenario string
	Step     string
	Protocol Protocol
	// Target is the step's Target.
	Target string

	Intended time.Duration
	Start    time.Duration
	End      time.Duration

	// Class is "" for a success, else the error class (see classes.go).
	Class string
	// Status is the protocol status (HTTP status code), 0 when none.
	Status int
	// Err describes a failure for logs and reports; nil on success.
	Err error
	// Ack is the acknowledged write's id, when the step has `ack:` and the
	// operation succeeded.
	Ack string

	BytesIn, BytesOut int64
}

// Latency is user latency: intended start to completion.
func (r *Result) Latency() time.Duration { return r.End - r.Intended }

// ServiceTime is actual send to completion.
func (r *Result) ServiceTime() time.Duration { return r.End - r.Start }

// DispatchLag is intended start to actual send.
func (r *Result) DispatchLag() time.Duration { return r.Start - r.Intended }

// OK reports whether the operation succeeded.
func (r *Result) OK() bool { return r.Class == "" }

// Sink receives every result. Record is called from many goroutines at once
// and must not retain r after it returns.
type Sink interface {
	Record(r *Result)
}
