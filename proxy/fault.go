package proxy

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Shopify/toxiproxy/v2/stream"
	"github.com/Shopify/toxiproxy/v2/toxics"

	"github.com/chaosload/chaosload/faults"
)

// fault is one injected fault: its spec, its toxicity draw key and what it
// has done so far. The immutable fields are set before the fault is
// published; the counters are atomic; applied/reverted are guarded by
// Proxy.mu.
type fault struct {
	name     string
	spec     faults.Spec
	toxicity float64
	key      uint64        // seed of its draws, see faultKey
	dirs     [2]bool       // link directions its stage runs on, by stream.Direction
	applied  time.Time     // guarded by Proxy.mu
	reverted time.Time     // guarded by Proxy.mu; zero while active
	gone     chan struct{} // closed when the fault is reverted

	// Connection-level state: the conn-limit gate, the reset-peer timers
	// (guarded by Proxy.mu) and the kernel-loss table.
	gate   *gate
	timers map[*conn]*time.Timer
	nft    *nftTable

	// watch is the watcher of a Proxy.Watch entry (nil for a fault).
	watch faults.ConnWatch

	selected atomic.Int64
	eff      effect

	// Protocol-aware kinds (protocol.go): each connection's session and the
	// connections given up. While the fault is being reverted (leaving),
	// sessions holds only the connections it is still finishing; unlisted
	// says the fault left the fault set.
	sessMu        sync.Mutex
	sessions      map[*conn]*protoSession
	unlisted      bool // guarded by sessMu
	uninspectable atomic.Int64
	leaving       atomic.Bool // being reverted: no new request is drawn (see leave)
}

// effect counts what a fault did to traffic; see FaultStats for each.
type effect struct {
	connsRefused, connsReset, connsQueued, connsDelayed atomic.Int64
	chunksDelayed, delayNanos, bytesHeld, bytesDropped  atomic.Int64
	requestsErrored, requestsDelayed                    atomic.Int64
	admissions, serverRefused, serverAdmitted           atomic.Int64
}

// delayed counts one chunk of n bytes held for d.
func (e *effect) delayed(n int, d time.Duration) {
	e.chunksDelayed.Add(1)
	e.bytesHeld.Add(int64(n))
	e.delayNanos.Add(int64(d))
}

func newFault(seed int64, name string, spec faults.Spec, toxicity float64) *fault {
	f := &fault{name: name, spec: spec, toxicity: toxicity, key: faultKey(seed, name), applied: time.Now(),
		gone: make(chan struct{})}
	switch s := spec.(type) {
	case faults.LatencySpec:
		f.dirs = directions(s.Direction)
	case faults.BandwidthSpec:
		f.dirs = directions(s.Direction)
	case faults.SlowCloseSpec:
		f.dirs = directions(s.Direction)
	case faults.SlicerSpec:
		f.dirs = directions(s.Direction)
	case faults.LimitDataSpec:
		f.dirs = directions(s.Direction)
	case faults.LossSpec:
		if s.Mode != faults.Kernel {
			f.dirs = directions(s.Direction)
		}
	case faults.TimeoutSpec:
		f.dirs = [2]bool{true, true}
	case faults.ConnLimitSpec:
		f.gate = newGate(s.Max)
	case faults.ResetPeerSpec:
		f.timers = map[*conn]*time.Timer{}
	default:
		if isProtocol(spec) {
			f.dirs, f.sessions = [2]bool{true, true}, map[*conn]*protoSession{}
		}
	}
	return f
}

// isGone reports whether the fault was reverted.
func (f *fault) isGone() bool {
	select {
	case <-f.gone:
		return true
	default:
		return false
	}
}

// isStage reports whether the fault runs as a stage on links (it acts on a
// link direction), rather than on connections or the listener.
func (f *fault) isStage() bool { return f.dirs[0] || f.dirs[1] }

// directions maps a faults.Direction to the link directions it covers. The
// empty direction is downstream, as in package faults.
func directions(d faults.Direction) [2]bool {
	switch d {
	case faults.Upstream:
		return [2]bool{stream.Upstream: true}
	case faults.Both:
		return [2]bool{true, true}
	}
	return [2]bool{stream.Downstream: true}
}

// selects reports whether the fault affects connection seq (its toxicity draw).
func (f *fault) selects(seq uint64) bool { return selects(f.key, seq, f.toxicity) }

// newStage returns the stage that carries the fault out on one link of
// pipeline pl, and the capacity of the stage's input channel.
func (f *fault) newStage(l *link, pl *pipeline) (toxics.Toxic, int) {
	w := stageWait{dead: l.c.dead, gone: f.gone, eff: &f.eff}
	switch s := f.spec.(type) {
	case faults.LatencySpec:
		return &latencyStage{
			latency: s.Latency, jitter: s.Jitter, fault: f,
			rng: l.rand(f), dead: l.c.dead,
		}, latencyBuffer
	case faults.BandwidthSpec:
		return &bandwidthStage{rate: s.Rate, w: w}, 0
	case faults.SlowCloseSpec:
		return &slowCloseStage{delay: s.Delay, eof: pl.eof.Load, w: w}, 0
	case faults.TimeoutSpec:
		return &timeoutStage{timeout: s.Timeout, st: l.state(f), c: l.c, w: w}, 0
	case faults.SlicerSpec:
		return &slicerStage{size: s.Size, variation: s.SizeVariation, delay: s.Delay, rng: l.rand(f), w: w}, 0
	case faults.LimitDataSpec:
		return &limitStage{limit: s.Bytes, st: l.state(f), w: w}, 0
	case faults.LossSpec:
		return &lossStage{rate: s.Rate, rto: s.RTO, rng: l.rand(f), fault: f, w: w}, latencyBuffer
	}
	if isProtocol(f.spec) {
		return f.protoStage(l, pl), 0
	}
	// Inject admits only the kinds above as stages.
	panic("proxy: no stage for fault kind " + string(f.spec.Kind()))
}

// stats returns the fault's metrics. The caller holds Proxy.mu.
func (f *fault) stats() FaultStats {
	e := &f.eff
	s := FaultStats{
		Kind:            f.spec.Kind(),
		Toxicity:        f.toxicity,
		Active:          f.reverted.IsZero(),
		Applied:         f.applied,
		Reverted:        f.reverted,
		Selected:        f.selected.Load(),
		ConnsRefused:    e.connsRefused.Load(),
		ConnsReset:      e.connsReset.Load(),
		ConnsQueued:     e.connsQueued.Load(),
		ConnsDelayed:    e.connsDelayed.Load(),
		ChunksDelayed:   e.chunksDelayed.Load(),
		InjectedDelay:   time.Duration(e.delayNanos.Load()),
		BytesHeld:       e.bytesHeld.Load(),
		BytesDropped:    e.bytesDropped.Load(),
		RequestsErrored: e.requestsErrored.Load(),
		RequestsDelayed: e.requestsDelayed.Load(),
		Uninspectable:   f.uninspectable.Load(),
		Admissions:      e.admissions.Load(),
		ServerRefused:   e.serverRefused.Load(),
		ServerAdmitted:  e.serverAdmitted.Load(),
	}
	if f.nft != nil {
		d := f.nft.dropped()
		s.DroppedUp, s.DroppedDown = d[0], d[1]
	}
	return s
}

// faultSet is the immutable set of active data-path faults. A new set is
// built for every change and published through Proxy.faults, so links read it
// without a lock.
type faultSet struct {
	stages []*fault // faults that run as stages on links, oldest first
	resets []*fault // reset faults: refuse new connections while applied
	conns  []*fault // connection-level faults new connections meet: conn-limit,
	// connect-delay, reset-peer, kernel loss
	watches []*fault // watches (Proxy.Watch): pool exhaustion
}

// with returns a copy of the set with f added.
func (s *faultSet) with(f *fault) *faultSet {
	n := &faultSet{stages: slices.Clone(s.stages), resets: slices.Clone(s.resets), conns: slices.Clone(s.conns),
		watches: slices.Clone(s.watches)}
	switch {
	case f.watch != nil:
		n.watches = append(n.watches, f)
	case f.isStage():
		n.stages = append(n.stages, f)
	case f.spec.Kind() == faults.Reset:
		n.resets = append(n.resets, f)
	default:
		n.conns = append(n.conns, f)
	}
	return n
}

// without returns a copy of the set with f removed.
func (s *faultSet) without(f *fault) *faultSet {
	is := func(g *fault) bool { return g == f }
	return &faultSet{
		stages:  slices.DeleteFunc(slices.Clone(s.stages), is),
		resets:  slices.DeleteFunc(slices.Clone(s.resets), is),
		conns:   slices.DeleteFunc(slices.Clone(s.conns), is),
		watches: slices.DeleteFunc(slices.Clone(s.watches), is),
	}
}

// stagesFor returns the stage faults that apply to the link of direction dir
// on connection c, oldest first, appending to buf. Downstream, the
// protocol-aware stages come newest first, so that the stage pairs nest:
// the oldest one, first to see requests, is last to see responses and so
// sees the answers of those after it as the responses they are. A reverted
// protocol fault still finishing c keeps its place.
func (s *faultSet) stagesFor(buf []*fault, dir stream.Direction, c *conn) []*fault {
	from := len(buf)
	for _, f := range s.stages {
		if f.dirs[dir] && f.applies(c) {
			buf = append(buf, f)
		}
	}
	if dir == stream.Downstream {
		reverseProtocol(buf[from:])
	}
	return buf
}

// resetFor returns the first reset fault that selects connection seq, or nil.
func (s *faultSet) resetFor(seq uint64) *fault {
	for _, f := range s.resets {
		if f.selects(seq) {
			return f
		}
	}
	return nil
}
