package proxy

import (
	"sync/atomic"
	"time"

	"github.com/chaosload/chaosload/faults"
)

// Stats is a live snapshot of one proxy's metrics. Counters only grow; bytes
// are counted as they are written, not when a connection closes.
type Stats struct {
	// Name is the target name from Config.
	Name string
	// Addr is the listen address; Listening is false while a down fault holds
	// the listener closed (or re-listening failed).
	Addr      string
	Listening bool
	// Upstream is the address new connections are dialled to.
	Upstream string

	// Active is the number of connections open now (dialling included).
	Active int64
	// Accepted counts every connection the listener accepted.
	Accepted uint64
	// Refused counts accepted connections turned away at once: reset at
	// accept while a reset fault is applied, or accepted while going down.
	Refused uint64
	// Reset counts active connections reset by a reset fault.
	Reset uint64
	// DialFailed counts connections closed because the upstream dial failed
	// or timed out (or no upstream was set).
	DialFailed uint64
	// BytesUp counts bytes written to the upstream (client → server),
	// BytesDown bytes written to clients (server → client).
	BytesUp, BytesDown uint64
	// Switches counts links moving between the fast path and a pipeline of
	// fault stages, or from one pipeline to another.
	Switches uint64
	// FastPath is how connections without a fault are carried:
	// FastPathSockmap (forwarded inside the kernel) or FastPathCopy (copied
	// by the proxy). KernelLinks counts the link directions the kernel
	// forwards now.
	FastPath    string
	KernelLinks int64

	// Faults holds one entry per fault name injected so far (the latest
	// injection of that name), active or reverted.
	Faults map[string]FaultStats
}

// FaultStats describes one injected fault and what it did.
type FaultStats struct {
	Kind     faults.Kind
	Toxicity float64
	// Active is true until the fault's Revert has been called.
	Active bool
	// Applied and Reverted are when Inject and the Revert published the
	// change (Reverted is zero while active).
	Applied, Reverted time.Time
	// Affected counts connections selected by the toxicity draw: for
	// latency, the connections delayed; for reset, connections reset or
	// refused; for down, the connections closed.
	Affected int64
	// DelayedChunks and InjectedDelay count the chunks a latency stage held
	// and the total time it held them.
	DelayedChunks int64
	InjectedDelay time.Duration
	// DroppedUp and DroppedDown count the packets kernel loss dropped
	// towards the upstream and back, read when its table was removed (zero
	// while it is active).
	DroppedUp, DroppedDown uint64
	// Injected counts the requests a protocol-aware error fault answered
	// itself (http-error, pg-error, redis-error); for the delay kinds,
	// DelayedChunks counts the requests held and InjectedDelay the time.
	Injected int64
	// Uninspectable counts connections a protocol-aware fault gave up on,
	// because their stream could not be parsed (TLS, an upgrade, a pub/sub
	// mode); the error log says which and why.
	Uninspectable int64
}

// counters are the proxy-wide live counters.
type counters struct {
	active                               atomic.Int64
	accepted, refused, reset, dialFailed atomic.Uint64
	switches                             atomic.Uint64
	bytes                                [2]atomic.Uint64 // indexed by stream.Direction
}

// Stats returns a snapshot of the proxy's live metrics.
func (p *Proxy) Stats() Stats {
	s := Stats{
		Name:       p.cfg.Name,
		Addr:       p.addr,
		Upstream:   p.Upstream(),
		Active:     p.ctr.active.Load(),
		Accepted:   p.ctr.accepted.Load(),
		Refused:    p.ctr.refused.Load(),
		Reset:      p.ctr.reset.Load(),
		DialFailed: p.ctr.dialFailed.Load(),
		Switches:   p.ctr.switches.Load(),
		FastPath:   FastPathCopy,
	}
	if p.sm != nil {
		b := p.sm.bytes(&p.ctr.bytes)
		s.BytesUp, s.BytesDown = b[0], b[1]
		s.FastPath, s.KernelLinks = FastPathSockmap, p.sm.inKern.Load()
	} else {
		s.BytesUp, s.BytesDown = p.ctr.bytes[0].Load(), p.ctr.bytes[1].Load()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	s.Listening = p.ln != nil
	s.Faults = make(map[string]FaultStats, len(p.records))
	for name, f := range p.records {
		s.Faults[name] = f.stats()
	}
	return s
}
