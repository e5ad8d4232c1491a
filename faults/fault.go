// Package faults owns the fault kinds of an experiment: the spec of each kind
// as written in an experiment file, its validation (the one home of the
// rules on a spec's values, CheckSpec, which package proxy applies too), the
// action that applies and reverts it, and the timeline that schedules those
// actions.
//
// Data-path faults (latency, reset, down, ...) are carried out by a proxy
// through the Injector interface, which package proxy implements; faults does
// not import proxy. Faults that act on a dependency directly (pool exhaustion)
// own their connections here, and watch the target's proxy through the same
// interface (ConnWatch) so that clients meet the server's own refusal. faults
// knows nothing about load or reports.
package faults

import (
	"context"
	"fmt"
	"time"

	"github.com/chaosload/chaosload/bytesize"
)

// Kind names a fault kind as written in an experiment file (`kind: latency`).
type Kind string

// The fault kinds. The set is closed: every switch over Kind lists them all.
const (
	Latency        Kind = "latency"
	Bandwidth      Kind = "bandwidth"
	SlowClose      Kind = "slow-close"
	Timeout        Kind = "timeout"
	ResetPeer      Kind = "reset-peer"
	Reset          Kind = "reset"
	Slicer         Kind = "slicer"
	LimitData      Kind = "limit-data"
	Down           Kind = "down"
	Loss           Kind = "loss"
	ConnLimit      Kind = "conn-limit"
	ConnectDelay   Kind = "connect-delay"
	PoolExhaustion Kind = "pool-exhaustion"
)

// (The process and host kinds, kill to disk-fill, are in hostkinds.go.)

// (The protocol-aware kinds, http-error to redis-delay, are in protocol.go.)

// Kinds lists every kind in the order the documentation gives them.
var Kinds = []Kind{Latency, Bandwidth, SlowClose, Timeout, ResetPeer, Reset, Slicer, LimitData,
	Down, Loss, ConnLimit, ConnectDelay, PoolExhaustion,
	HTTPError, HTTPDelay, PGError, PGDelay, RedisError, RedisDelay,
	Kill, Pause, CPULimit, MemoryLimit, IOLimit, CPUHog, MemoryHog, DiskFill}

// Direction says which way through a proxy a data-path fault acts.
// Upstream is client → server, downstream is server → client.
type Direction string

// The directions.
const (
	Upstream   Direction = "upstream"
	Downstream Direction = "downstream"
	Both       Direction = "both"
)

// Fault is one entry of an experiment's fault timeline, exactly as written in
// the file. Parameters of every kind sit side by side (the file is flat); only
// those of the entry's kind may be set, which Validate checks. Spec turns the
// entry into the typed spec of its kind.
type Fault struct {
	Name   string `yaml:"name"`
	Target string `yaml:"target"`
	Kind   Kind   `yaml:"kind"`

	// StartTime is when the fault is applied, from the start of the load.
	StartTime time.Duration `yaml:"startTime"`
	// Duration is how long the fault stays applied. Zero means: a one-shot
	// action for `reset`, and until the end of the run for every other kind.
	Duration time.Duration `yaml:"duration"`
	// Toxicity is the share of connections affected, in [0, 1], drawn once
	// per connection from the experiment seed. Nil means 1 (every connection).
	Toxicity *Percent `yaml:"toxicity"`
	// ExpectEffect makes a fault that changed no traffic while in effect a
	// failed check of the run, rather than a warning: a fault that did not
	// bite tested nothing.
	ExpectEffect bool `yaml:"expectEffect"`

	// latency (jitter also connect-delay; direction also bandwidth,
	// slow-close, slicer, limit-data and loss)
	Latency   time.Duration `yaml:"latency"`
	Jitter    time.Duration `yaml:"jitter"`
	Direction Direction     `yaml:"direction"`

	// Rate is a byte rate for bandwidth (64KB/s) and a share for loss (5%).
	Rate Rate `yaml:"rate"`
	// Delay is the delay of slow-close, slicer (between slices) and
	// connect-delay.
	Delay time.Duration `yaml:"delay"`
	// Timeout is when timeout closes a black-holed connection (0: never)
	// and when reset-peer resets one.
	Timeout time.Duration `yaml:"timeout"`

	// slicer
	Size          bytesize.Size `yaml:"size"`
	SizeVariation bytesize.Size `yaml:"sizeVariation"`

	// limit-data
	Bytes bytesize.Size `yaml:"bytes"`

	// loss
	RTO  time.Duration `yaml:"rto"`
	Mode LossMode      `yaml:"mode"`

	// conn-limit
	Max      int    `yaml:"max"`
	OnExcess Excess `yaml:"onExcess"`

	// pool-exhaustion: LeaveFree slots stay free for anyone; Reserved is how
	// many slots are left for administrators (nil: PostgreSQL's
	// superuser_reserved_connections, plus reserved_connections from
	// PostgreSQL 16; 0 takes them too, which needs a superuser dsn).
	LeaveFree int  `yaml:"leaveFree"`
	Reserved  *int `yaml:"reserved"`

	// The protocol-aware kinds (protocol.go): which requests (match), the
	// share of them (probability, nil: all), and the answer: an HTTP status,
	// headers and body; a SQLSTATE code and message; a Redis error message.
	// The delay kinds take latency and jitter.
	Match       *Match            `yaml:"match"`
	Probability *Percent          `yaml:"probability"`
	Status      int               `yaml:"status"`
	Headers     map[string]string `yaml:"headers"`
	Body        string            `yaml:"body"`
	Code        string            `yaml:"code"`
	Message     string            `yaml:"message"`

	// The process and host kinds (hostkinds.go). A process or resource
	// fault acts on the stack process named by target, or on a local
	// process given by pid or by process (its command name): one of the
	// three. Signal is kill's signal (default SIGKILL); CPUs the share of
	// one core cpu-limit allows; Bytes the memory-limit, the memory a
	// memory-hog holds, and what a disk-fill writes (with fill: at most);
	// Path the file or directory whose device io-limit throttles and the
	// directory disk-fill fills; ReadRate and WriteRate io-limit's byte
	// rates; Cores the cores a cpu-hog keeps busy; Fill the share of the
	// filesystem disk-fill leaves used.
	PID       int      `yaml:"pid"`
	Process   string   `yaml:"process"`
	Signal    string   `yaml:"signal"`
	CPUs      float64  `yaml:"cpus"`
	Cores     int      `yaml:"cores"`
	Path      string   `yaml:"path"`
	ReadRate  Rate     `yaml:"readRate"`
	WriteRate Rate     `yaml:"writeRate"`
	Fill      *Percent `yaml:"fill"`
}

// OneShot reports whether the fault is an instantaneous action rather than a
// state held for a while.
func (f *Fault) OneShot() bool { return (f.Kind == Reset && f.Duration == 0) || f.Kind == Kill }

// End is when the fault is reverted, from the start of the load, and false
// when it stays until the end of the run.
func (f *Fault) End() (time.Duration, bool) {
	if f.OneShot() {
		return f.StartTime, true
	}
	if f.Duration == 0 {
		return 0, false
	}
	return f.StartTime + f.Duration, true
}

// ToxicityOr1 returns the fault's toxicity, 1 when unset.
func (f *Fault) ToxicityOr1() float64 {
	if f.Toxicity == nil {
		return 1
	}
	return float64(*f.Toxicity)
}

// Problem is a validation finding about one field of a Fault, named by its
// YAML key so the caller can point at the line and column.
type Problem struct {
	Field string
	Msg   string
}

func (p Problem) Error() string { return p.Field + ": " + p.Msg }

// Validate checks the entry against its kind and returns every problem found.
// Whether the target exists and has the right protocol is the caller's check.
func (f *Fault) Validate() []Problem {
	var ps problems
	add := func(field, format string, a ...any) {
		ps.add(true, field, fmt.Sprintf(format, a...))
	}
	if f.Name == "" {
		add("name", "is required")
	}
	if f.Target == "" && !hostKinds[f.Kind] {
		add("target", "is required")
	}
	if f.StartTime < 0 {
		add("startTime", "must not be negative")
	}
	if f.Duration < 0 {
		add("duration", "must not be negative")
	}
	if f.Toxicity != nil && !isShare(float64(*f.Toxicity)) {
		add("toxicity", "%s", toxicityMsg)
	}
	spec, ok := specs[f.Kind]
	if !ok {
		add("kind", "unknown fault kind %q; valid kinds: %s", f.Kind, kindList())
		return ps
	}
	for _, field := range setFields(f) {
		if !spec.params[field] {
			add(field, "is not a parameter of kind %q (its parameters: %s)", f.Kind, spec.paramList())
		}
	}
	ps.addNew(spec.validate(f))
	return ps
}

// Revert undoes an applied fault. It must return by the context's deadline.
type Revert func(ctx context.Context) error

// Action applies one fault. Apply returns once the fault is in effect; the
// returned Revert undoes it. A one-shot action returns a Revert that does
// nothing.
type Action interface {
	Apply(ctx context.Context) (Revert, error)
}

// ActionFunc adapts a function to Action.
type ActionFunc func(ctx context.Context) (Revert, error)

// Apply implements Action.
func (f ActionFunc) Apply(ctx context.Context) (Revert, error) { return f(ctx) }

// Injector carries out data-path faults on a running proxy. *proxy.Proxy
// implements it. Inject must not wait for any connection's traffic: a stuck
// connection delays only itself, never the caller.
//
// Watch has w follow the connections the proxy carries until the returned
// Revert is called (see ConnWatch); the proxy counts what it sees under name
// and spec's kind in its fault statistics. Pool exhaustion watches its
// target's proxy so that the server itself refuses new connections.
type Injector interface {
	Inject(ctx context.Context, name string, spec Spec, toxicity float64) (Revert, error)
	Watch(name string, spec Spec, w ConnWatch) (Revert, error)
}
