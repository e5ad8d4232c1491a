package proxy

import (
	"math/rand/v2"
	"time"

	"github.com/Shopify/toxiproxy/v2/stream"
	"github.com/Shopify/toxiproxy/v2/toxics"
)

// latencyBuffer is how many chunks may wait in a latency stage, as in
// Toxiproxy's LatencyToxic: reads go on while earlier chunks wait.
const latencyBuffer = 1024

// latencyStage delays every chunk by latency ± a uniform jitter, measured
// from when the chunk was read. It implements toxics.Toxic, so it runs on
// the same pipe protocol as Toxiproxy's toxics, but it replaces Toxiproxy's
// LatencyToxic for three reasons: that toxic draws jitter from the global
// math/rand source (not seedable, so a run cannot be repeated), its sends do
// not watch for the connection's end, and it allocates a timer per chunk.
//
// Interrupt (closed when the fault is reverted) ends the delaying: the chunk
// being held is handed on at once and the pipeline passes the rest on in
// order. Every wait and every send also ends when the connection dies.
type latencyStage struct {
	latency, jitter time.Duration
	rng             *rand.Rand // the link's generator for this fault
	dead            <-chan struct{}
	fault           *fault // for its counters
}

// Pipe implements toxics.Toxic.
func (s *latencyStage) Pipe(stub *toxics.ToxicStub) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-stub.Interrupt:
			return
		case <-s.dead:
			return
		case c := <-stub.Input:
			if c == nil {
				stub.Close()
				return
			}
			held := s.hold(stub, timer, c)
			if !s.send(stub, c) || !held {
				return
			}
		}
	}
}

// hold waits until c is due: delay() after it was read. It returns false if
// interrupted or the connection died first; c must be handed on either way.
func (s *latencyStage) hold(stub *toxics.ToxicStub, timer *time.Timer, c *stream.StreamChunk) bool {
	wait := s.delay() - time.Since(c.Timestamp)
	if wait <= 0 {
		return true
	}
	start := time.Now()
	defer func() { s.count(time.Since(start)) }()
	timer.Reset(wait)
	select {
	case <-timer.C:
		// A following stage measures its own delay from here, so stacked
		// latency faults add up.
		c.Timestamp = c.Timestamp.Add(wait)
		return true
	case <-stub.Interrupt:
	case <-s.dead:
	}
	timer.Stop()
	return false
}

// send hands c to the next stage, unless the connection dies first.
func (s *latencyStage) send(stub *toxics.ToxicStub, c *stream.StreamChunk) bool {
	select {
	case stub.Output <- c:
		return true
	case <-s.dead:
		return false
	}
}

// delay draws latency + U[-jitter, +jitter] from the stage's generator.
func (s *latencyStage) delay() time.Duration {
	if s.jitter <= 0 {
		return s.latency
	}
	return s.latency + time.Duration(s.rng.Int64N(int64(2*s.jitter)+1)) - s.jitter
}

// count records one held chunk and how long it was held.
func (s *latencyStage) count(held time.Duration) {
	s.fault.delayedChunks.Add(1)
	s.fault.delayNanos.Add(int64(held))
}
