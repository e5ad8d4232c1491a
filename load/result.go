package load

import "time"

// Result is what one operation did. A failed operation is data (Class), never
// an error returned. Times are offsets from the start of the load on the
// monotonic clock, so they order and subtract exactly:
//
//	Intended ─▶ Dispatched ─▶ Start ──service time──▶ End
//	   └─ generator lag ─┘        │
//	   └──── dispatch lag ────────┘
//	   └───────────────── latency ──────────────────▶ End
//	              └──── latency less own lateness ──▶ End
//
// Intended is when the schedule wanted the operation to begin (the arrival
// time, or the end of the previous step's think time), so a stalled target
// or a busy generator shows in latency: there is no coordinated omission.
// Dispatched is when the executor handed the operation to its driver; Start
// is when the driver actually sent it (for HTTP: once it held a connection,
// so waiting for a pooled connection or a slow connect is dispatch lag, not
// service time). Generator lag (Intended → Dispatched) is the generator's
// own lateness alone, the health signal that must not rise when the target
// misbehaves. Latency less that lateness (Dispatched → End) is what the
// operation would have measured had the generator been on time: judging a
// check both ways tells whether the generator could have changed it.
type Result struct {
	// Kind is what the result measures: KindOp ("") for a step's
	// operation, which every executor records; drivers record the other
	// kinds themselves (a WebSocket connect, each message) through their
	// own Sink.
	Kind Kind
	// Direction is "sent" or "received" for a message (KindWSMessage), ""
	// otherwise.
	Direction string
	// Untimed marks a result that is counted but whose times are not a
	// measurement (a received message, a message sent with no reply
	// expected): it adds to counts, never to histograms.
	Untimed bool

	Scenario string
	Step     string
	Protocol Protocol
	// Target is the step's Target.
	Target string
	// Tags are the scenario's tags, shared by every result of the scenario:
	// read them, never write them.
	Tags map[string]string

	Intended   time.Duration
	Dispatched time.Duration
	Start      time.Duration
	End        time.Duration

	// Class is "" for a success, else the error class (see classes.go).
	Class string
	// Status is the protocol status (HTTP status code), 0 when none.
	Status int
	// Err describes a failure for logs and reports; nil on success.
	Err error
	// Ack is the acknowledged write's id, when the step has `ack:` and the
	// operation succeeded.
	Ack string

	// NewConns is how many connections the operation established (0 when it
	// reused one); the recorder turns it into conn_rate.
	NewConns int

	// BytesIn and BytesOut count payload bytes (for HTTP: the response and
	// request bodies).
	BytesIn, BytesOut int64
}

// Kind is what a Result measures; each kind is its own family of series in
// the recorder, so counts of one never mix with another's.
type Kind string

// The kinds of result.
const (
	// KindOp is a step's operation, recorded by the executor: latency,
	// errors, ops, dropped and conn_rate read it.
	KindOp Kind = ""
	// KindWSConnect is a WebSocket connection attempt: dial and handshake
	// (ws_connect).
	KindWSConnect Kind = "ws_connect"
	// KindWSMessage is one WebSocket message, sent or received (ws_msgs);
	// a sent message that expects a reply is timed from its intended send
	// time to the reply (ws_rtt).
	KindWSMessage Kind = "ws_message"
)

// The directions of a message.
const (
	DirectionSent     = "sent"
	DirectionReceived = "received"
)

// Latency is user latency: intended start to completion.
func (r *Result) Latency() time.Duration { return r.End - r.Intended }

// ServiceTime is actual send to completion.
func (r *Result) ServiceTime() time.Duration { return r.End - r.Start }

// DispatchLag is intended start to actual send: the generator's lateness
// plus any wait for a connection.
func (r *Result) DispatchLag() time.Duration { return r.Start - r.Intended }

// GeneratorLag is intended start to the hand-off to the driver: the
// generator's own lateness, whatever the target does.
func (r *Result) GeneratorLag() time.Duration { return r.Dispatched - r.Intended }

// OwnLateness is the generator lag as a lateness: never below zero, so a
// result whose Dispatched was not set (a synthetic one) has none.
func (r *Result) OwnLateness() time.Duration { return max(r.Dispatched-r.Intended, 0) }

// OK reports whether the operation succeeded.
func (r *Result) OK() bool { return r.Class == "" }

// Sink receives every result. Record is called from many goroutines at once
// and must not retain r after it returns (the executor reuses it).
type Sink interface {
	Record(r *Result)
}
