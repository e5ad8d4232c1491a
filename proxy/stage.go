package proxy

import (
	"time"

	"github.com/Shopify/toxiproxy/v2/stream"
	"github.com/Shopify/toxiproxy/v2/toxics"
)

// Chaosload's own stages (bandwidth, slow-close, timeout, slicer,
// limit-data, loss) run on Toxiproxy's pipe protocol, like its toxics, but
// are not Toxiproxy's toxics of the same names, which this runtime cannot use
// as they are (toxiproxy v2.12.0):
//
//   - their sends (stub.Output <- c) select on nothing, so a stage stays
//     blocked on a connection that died until something downstream drains;
//   - slicer draws from the global math/rand source (no seed, no repeatable
//     run) and bandwidth logs through zerolog's global logger;
//   - every wait allocates a time.After timer; timeout's is re-armed by every
//     chunk, so a connection that keeps sending is never closed;
//   - units are whole milliseconds (slow_close, timeout), microseconds
//     (slicer) and KB/s (bandwidth); chaosload's specs carry time.Duration
//     and bytes per second;
//   - slow_close cannot tell the end of the stream from a pipeline being
//     rebuilt for another fault, and would delay that too;
//   - limit_data keeps its count in the stub, lost whenever the pipeline is
//     rebuilt (another fault comes or goes);
//   - reset_peer needs a *net.TCPConn at the link's start to set SO_LINGER,
//     and its wait cannot be interrupted: reset-peer is a per-connection
//     timer in this runtime (armResetPeer, in connfaults.go).
//
// Every wait of a stage ends when the stage is interrupted (its fault left
// the link), when its fault is reverted (gone, seen even while the link is
// draining at the end of the stream) or when the connection dies; every send
// ends when the connection dies.

// stageWait is what ends a stage's waits early, and the counters of what
// the stage does to traffic.
type stageWait struct {
	dead <-chan struct{} // the connection died: stop, drop what is held
	gone <-chan struct{} // the fault was reverted: stop applying it (a protocol stage: its session was released)
	eff  *effect         // the fault's effect counters
}

// waitEnd is how a stage's wait ended.
type waitEnd int

const (
	waited  waitEnd = iota // the time passed
	stopped                // interrupted or reverted: hand on what is held and return
	died                   // the connection died: return
)

// sleep waits d on timer (stopped, drained) unless the stage is stopped or
// the connection dies first.
func (w stageWait) sleep(stub *toxics.ToxicStub, timer *time.Timer, d time.Duration) waitEnd {
	if d <= 0 {
		return waited
	}
	timer.Reset(d)
	select {
	case <-timer.C:
		return waited
	case <-stub.Interrupt:
		timer.Stop()
		return stopped
	case <-w.gone:
		timer.Stop()
		return stopped
	case <-w.dead:
		timer.Stop()
		return died
	}
}

// next receives the next chunk: nil with ok true at the end of the input,
// ok false when the stage is stopped or the connection died (end says which).
func (w stageWait) next(stub *toxics.ToxicStub) (c *stream.StreamChunk, ok bool, end waitEnd) {
	select {
	case c = <-stub.Input:
		return c, true, waited
	case <-stub.Interrupt:
		return nil, false, stopped
	case <-w.gone:
		return nil, false, stopped
	case <-w.dead:
		return nil, false, died
	}
}

// emit hands c on, unless the connection dies first.
func (w stageWait) emit(stub *toxics.ToxicStub, c *stream.StreamChunk) bool {
	select {
	case stub.Output <- c:
		return true
	case <-w.dead:
		return false
	}
}

// newStoppedTimer returns a timer that is not running, for sleep.
func newStoppedTimer() *time.Timer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}
