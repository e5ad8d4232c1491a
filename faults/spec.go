package faults

import (
	"fmt"
	"time"
)

// Spec is the typed spec of one fault kind, its defaults filled in. Package
// proxy switches over the concrete types of the kinds it carries out.
type Spec interface {
	Kind() Kind
}

// The defaults the specs fill in.
const (
	// DefaultRTO is the first retransmission timeout of the loss model:
	// Linux's minimum RTO (TCP_RTO_MIN), which a connection with a loopback
	// or LAN round trip meets on every tail loss.
	DefaultRTO = 200 * time.Millisecond
)

// Spec returns the typed spec of the fault's kind with its defaults. The
// entry must be valid.
func (f *Fault) Spec() Spec {
	if s, ok := f.protocolSpec(); ok {
		return s
	}
	if s, ok := f.hostSpec(); ok {
		return s
	}
	switch f.Kind {
	case Latency:
		return LatencySpec{Latency: f.Latency, Jitter: f.Jitter, Direction: f.dir(Downstream)}
	case Bandwidth:
		return BandwidthSpec{Rate: f.Rate.PerSecond, Direction: f.dir(Downstream)}
	case SlowClose:
		return SlowCloseSpec{Delay: f.Delay, Direction: f.dir(Downstream)}
	case Timeout:
		return TimeoutSpec{Timeout: f.Timeout}
	case ResetPeer:
		return ResetPeerSpec{Timeout: f.Timeout}
	case Reset:
		return ResetSpec{}
	case Slicer:
		return SlicerSpec{Size: int(f.Size), SizeVariation: int(f.SizeVariation), Delay: f.Delay, Direction: f.dir(Downstream)}
	case LimitData:
		return LimitDataSpec{Bytes: int64(f.Bytes), Direction: f.dir(Downstream)}
	case Down:
		return DownSpec{}
	case Loss:
		return f.lossSpec()
	case ConnLimit:
		return ConnLimitSpec{Max: f.Max, OnExcess: or(f.OnExcess, Refuse)}
	case ConnectDelay:
		return ConnectDelaySpec{Delay: f.Delay, Jitter: f.Jitter}
	case PoolExhaustion:
		return PoolExhaustionSpec{LeaveFree: f.LeaveFree, Reserved: f.Reserved}
	}
	panic(fmt.Sprintf("faults: Spec of unvalidated kind %q", f.Kind))
}

func (f *Fault) lossSpec() LossSpec {
	s := LossSpec{Rate: f.Rate.Share, RTO: f.RTO, Mode: or(f.Mode, Model), Direction: f.dir(Both)}
	if s.RTO == 0 {
		s.RTO = DefaultRTO
	}
	return s
}

// dir returns the fault's direction, def when unset.
func (f *Fault) dir(def Direction) Direction { return or(f.Direction, def) }

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// LatencySpec delays every chunk by Latency ± a uniform Jitter in Direction.
type LatencySpec struct {
	Latency   time.Duration
	Jitter    time.Duration
	Direction Direction
}

// BandwidthSpec limits each affected connection to Rate bytes per second in
// Direction.
type BandwidthSpec struct {
	Rate      float64 // bytes per second, > 0
	Direction Direction
}

// SlowCloseSpec delays passing on a close (the end of the stream) in
// Direction by Delay.
type SlowCloseSpec struct {
	Delay     time.Duration
	Direction Direction
}

// TimeoutSpec black-holes a connection: data in both directions is
// discarded, and the connection is closed Timeout after the fault reached it
// (never when Timeout is 0). Reverting it closes every connection that lost
// data, since its stream is no longer whole.
type TimeoutSpec struct {
	Timeout time.Duration
}

// ResetPeerSpec resets (TCP RST) every affected connection Timeout after it
// was accepted or after the fault was applied, whichever is later.
type ResetPeerSpec struct {
	Timeout time.Duration
}

// ResetSpec resets every active connection (TCP RST) and refuses new ones
// while applied.
type ResetSpec struct{}

// SlicerSpec cuts the data in Direction into slices of Size ± a uniform
// SizeVariation bytes, handed on Delay apart.
type SlicerSpec struct {
	Size, SizeVariation int
	Delay               time.Duration
	Direction           Direction
}

// LimitDataSpec closes a connection once Bytes bytes have passed in
// Direction while the fault was applied.
type LimitDataSpec struct {
	Bytes     int64
	Direction Direction
}

// DownSpec closes the listener (new connections are refused) and closes every
// active connection while applied.
type DownSpec struct{}

// LossSpec is packet loss at Rate (a share in (0, 1)). In Mode Model each
// chunk in Direction is "lost" with probability Rate: it and everything
// after it is held for RTO, doubling while the retransmission is lost too;
// no byte is ever dropped. In Mode Kernel the kernel drops real packets of
// the affected connections, both ways, and TCP retransmits them.
type LossSpec struct {
	Rate      float64
	RTO       time.Duration
	Mode      LossMode
	Direction Direction
}

// ConnLimitSpec allows at most Max concurrent affected connections through
// the proxy; one more is refused (reset at once) or queued until one closes,
// as OnExcess says.
type ConnLimitSpec struct {
	Max      int
	OnExcess Excess
}

// ConnectDelaySpec delays every new affected connection by Delay ± a uniform
// Jitter before the proxy connects it to the upstream.
type ConnectDelaySpec struct {
	Delay, Jitter time.Duration
}

// PoolExhaustionSpec holds direct connections to the server until it has no
// slot left for anyone else, leaving LeaveFree slots free for anyone and
// Reserved slots for administrators. Reserved nil means the server's own
// reservation (PostgreSQL's superuser_reserved_connections plus, from
// PostgreSQL 16, reserved_connections; none for Redis); 0 takes those slots
// too, which only a superuser can.
type PoolExhaustionSpec struct {
	LeaveFree int
	Reserved  *int
}

// LossMode is how loss is made: a model in the proxy, or the kernel.
type LossMode string

// The loss modes.
const (
	Model  LossMode = "model"
	Kernel LossMode = "kernel"
)

// Excess is what conn-limit does with a connection beyond its maximum.
type Excess string

// The conn-limit behaviours.
const (
	Refuse Excess = "refuse"
	Queue  Excess = "queue"
)

// Kind implements Spec.
func (LatencySpec) Kind() Kind { return Latency }

// Kind implements Spec.
func (BandwidthSpec) Kind() Kind { return Bandwidth }

// Kind implements Spec.
func (SlowCloseSpec) Kind() Kind { return SlowClose }

// Kind implements Spec.
func (TimeoutSpec) Kind() Kind { return Timeout }

// Kind implements Spec.
func (ResetPeerSpec) Kind() Kind { return ResetPeer }

// Kind implements Spec.
func (ResetSpec) Kind() Kind { return Reset }

// Kind implements Spec.
func (SlicerSpec) Kind() Kind { return Slicer }

// Kind implements Spec.
func (LimitDataSpec) Kind() Kind { return LimitData }

// Kind implements Spec.
func (DownSpec) Kind() Kind { return Down }

// Kind implements Spec.
func (LossSpec) Kind() Kind { return Loss }

// Kind implements Spec.
func (ConnLimitSpec) Kind() Kind { return ConnLimit }

// Kind implements Spec.
func (ConnectDelaySpec) Kind() Kind { return ConnectDelay }

// Kind implements Spec.
func (PoolExhaustionSpec) Kind() Kind { return PoolExhaustion }
