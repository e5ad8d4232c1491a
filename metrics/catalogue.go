package metrics

import (
	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/chaosload/chaosload/load"
)

// Quantity is what a metric reads from the results it selects: one of an
// Aggregate's histograms, or one of its counts.
type Quantity int

// The quantities.
const (
	// Latency is the histogram of intended start → completion.
	Latency Quantity = iota
	// ServiceTime is the histogram of actual send → completion.
	ServiceTime
	// DispatchLag is the histogram of intended start → actual send.
	DispatchLag
	// Results counts the results (as a rate: per second of the window).
	Results
	// Errors is the share of the results that failed (Aggregate.Errors).
	Errors
	// Dropped counts the dropped arrivals among the results.
	Dropped
	// Conns counts the connections the results established (as a rate:
	// per second of the window).
	Conns
)

// Timing reports whether q is a histogram of durations.
func (q Quantity) Timing() bool { return q <= DispatchLag }

// IncludesLateness reports whether q includes the generator's own lateness
// (intended start → hand-off to the driver): latency and dispatch lag do,
// and Recorder.WithoutLateness takes it off them; service time and counts
// never include it.
func (q Quantity) IncludesLateness() bool { return q == Latency || q == DispatchLag }

// Histogram returns the histogram of agg that a timing q reads (nil when
// agg lacks it, or when q is a count).
func (q Quantity) Histogram(agg Aggregate) *hdrhistogram.Histogram {
	switch q {
	case Latency:
		return agg.Latency
	case ServiceTime:
		return agg.ServiceTime
	case DispatchLag:
		return agg.DispatchLag
	}
	return nil
}

// Def says how a metric of the threshold grammar is measured: which kind of
// result it reads, and what it reads of those results.
type Def struct {
	// Kind is the kind of result the metric reads (load.KindOp: the step
	// operations).
	Kind load.Kind
	// Quantity is what it reads of them.
	Quantity Quantity
}

// Defs is the catalogue of recorded metrics, by the name thresholds use.
// package config holds the same names with how each aggregates
// (config.Metrics); a test keeps the two in step.
//
// Adding a metric is local: a line here and one in config.Metrics; if it
// reads a kind of result nothing records yet, a load.Kind and the driver
// that records it (through load.Sink, like wsload); if it reads something no
// Quantity covers, a Quantity (and, for a new count, a field of cell and of
// Aggregate). Gauges (sampled values such as a target's RSS) are such a
// case: a Kind per gauge, a Value on load.Result kept in the latency slot's
// place, and Quantity Value.
var Defs = map[string]Def{
	// Step operations: what users do.
	"latency":      {load.KindOp, Latency},
	"service_time": {load.KindOp, ServiceTime},
	"dispatch_lag": {load.KindOp, DispatchLag},
	"errors":       {load.KindOp, Errors},
	"ops":          {load.KindOp, Results},
	"dropped":      {load.KindOp, Dropped},
	// conn_rate: connections established per second, by every protocol's
	// steps (each driver sets Result.NewConns); {protocol:ws} and so on
	// select one.
	"conn_rate": {load.KindOp, Conns},
	// WebSocket: the handshake, the round trip of a message from its
	// intended send time to its reply, messages per second
	// ({direction:sent} or {direction:received} select one way).
	"ws_connect": {load.KindWSConnect, Latency},
	"ws_rtt":     {load.KindWSMessage, Latency},
	"ws_msgs":    {load.KindWSMessage, Results},
}
