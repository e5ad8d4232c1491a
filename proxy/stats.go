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
	// Requests counts the requests clients started, when
	// Config.CountRequests names their protocol (zero otherwise); Checks
	// the HTTP health checks among them (Config.CheckPath), counted apart.
	Requests, Checks uint64
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

// FaultStats describes one injected fault and what it did to traffic. The
// counters say what happened to connections, requests and bytes; a fault
// whose counters all stayed zero changed no traffic.
type FaultStats struct {
	Kind     faults.Kind
	Toxicity float64
	// Active is true until the fault's Revert has been called.
	Active bool
	// Applied and Reverted are when Inject and the Revert published the
	// change (Reverted is zero while active).
	Applied, Reverted time.Time
	// Selected counts the connections the toxicity draw selected among those
	// the fault met (open when it was applied, or accepted while it was):
	// the connections it could act on, whether it then did or not.
	Selected int64

	// ConnsRefused counts new connections turned away at once: reset at
	// accept by reset, refused by conn-limit.
	ConnsRefused int64
	// ConnsReset counts connections the fault ended: reset (reset,
	// reset-peer) or closed (down, timeout, limit-data).
	ConnsReset int64
	// ConnsQueued counts connections conn-limit made wait for a slot.
	ConnsQueued int64
	// ConnsDelayed counts connections connect-delay held before dialling
	// and those whose close slow-close held back.
	ConnsDelayed int64
	// ChunksDelayed counts the chunks latency or loss (model) held back
	// (for latency, every chunk it held to its delay, one already due when
	// it reached the stage included); InjectedDelay is the time they, or the
	// requests of a protocol-aware delay, waited in all.
	ChunksDelayed int64
	InjectedDelay time.Duration
	// BytesHeld counts bytes held back: delayed by latency or loss, paced by
	// bandwidth, held between slices by slicer. BytesDropped counts bytes
	// discarded: black-holed by timeout, cut off by limit-data.
	BytesHeld, BytesDropped int64
	// DroppedUp and DroppedDown count the packets kernel loss dropped
	// towards the upstream and back, read when its table was removed (zero
	// while it is active).
	DroppedUp, DroppedDown uint64
	// RequestsErrored counts the requests a protocol-aware error fault
	// answered itself (http-error, pg-error, redis-error); RequestsDelayed
	// the requests a protocol-aware delay held.
	RequestsErrored, RequestsDelayed int64
	// Uninspectable counts connections a protocol-aware fault gave up on,
	// because their stream could not be parsed (TLS, an upgrade, a pub/sub
	// mode); the error log says which and why.
	Uninspectable int64

	// A watch (pool exhaustion, see Proxy.Watch): Admissions counts new
	// connections that waited for the watcher before the proxy dialled;
	// ServerRefused those the server then refused for lack of slots
	// (PostgreSQL's 53300, Redis's "max number of clients reached"), as its
	// first bytes said; ServerAdmitted those the server took.
	Admissions, ServerRefused, ServerAdmitted int64
}

// counters are the proxy-wide live counters.
type counters struct {
	active                               atomic.Int64
	accepted, refused, reset, dialFailed atomic.Uint64
	switches, requests, checks           atomic.Uint64
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
		Requests:   p.ctr.requests.Load(),
		Checks:     p.ctr.checks.Load(),
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
