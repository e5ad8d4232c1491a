package proxy

import (
	"slices"
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
	key      uint64    // seed of its draws, see faultKey
	dirs     [2]bool   // link directions its stage runs on, by stream.Direction
	applied  time.Time // guarded by Proxy.mu
	reverted time.Time // guarded by Proxy.mu; zero while active

	affected, delayedChunks, delayNanos atomic.Int64
}

func newFault(seed int64, name string, spec faults.Spec, toxicity float64) *fault {
	f := &fault{name: name, spec: spec, toxicity: toxicity, key: faultKey(seed, name), applied: time.Now()}
	if l, ok := spec.(faults.LatencySpec); ok {
		f.dirs = directions(l.Direction)
	}
	return f
}

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

// newStage returns the stage that carries the fault out on one link, and the
// capacity of the stage's input channel.
func (f *fault) newStage(l *link) (toxics.Toxic, int) {
	switch s := f.spec.(type) {
	case faults.LatencySpec:
		return &latencyStage{
			latency: s.Latency, jitter: s.Jitter, fault: f,
			rng: l.rand(f), dead: l.c.dead,
		}, latencyBuffer
	}
	// Inject admits only the kinds above as stages.
	panic("proxy: no stage for fault kind " + string(f.spec.Kind()))
}

// stats returns the fault's metrics. The caller holds Proxy.mu.
func (f *fault) stats() FaultStats {
	return FaultStats{
		Kind:          f.spec.Kind(),
		Toxicity:      f.toxicity,
		Active:        f.reverted.IsZero(),
		Applied:       f.applied,
		Reverted:      f.reverted,
		Affected:      f.affected.Load(),
		DelayedChunks: f.delayedChunks.Load(),
		InjectedDelay: time.Duration(f.delayNanos.Load()),
	}
}

// faultSet is the immutable set of active data-path faults. A new set is
// built for every change and published through Proxy.faults, so links read it
// without a lock.
type faultSet struct {
	stages []*fault // faults that run as stages on links (latency), oldest first
	resets []*fault // reset faults: refuse new connections while applied
}

// with returns a copy of the set with f added.
func (s *faultSet) with(f *fault) *faultSet {
	n := &faultSet{stages: slices.Clone(s.stages), resets: slices.Clone(s.resets)}
	switch f.spec.(type) {
	case faults.ResetSpec:
		n.resets = append(n.resets, f)
	default:
		n.stages = append(n.stages, f)
	}
	return n
}

// without returns a copy of the set with f removed.
func (s *faultSet) without(f *fault) *faultSet {
	is := func(g *fault) bool { return g == f }
	return &faultSet{
		stages: slices.DeleteFunc(slices.Clone(s.stages), is),
		resets: slices.DeleteFunc(slices.Clone(s.resets), is),
	}
}

// stagesFor returns the stage faults that apply to the link of direction dir
// on connection seq, oldest first, appending to buf.
func (s *faultSet) stagesFor(buf []*fault, dir stream.Direction, seq uint64) []*fault {
	for _, f := range s.stages {
		if f.dirs[dir] && f.selects(seq) {
			buf = append(buf, f)
		}
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
