package proxy

import (
	"math/rand/v2"
	"runtime"
	"syscall"
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
	fault           *fault          // for its counters
	finish          func(time.Time) // sleeps the last stretch; nil: sleepUntil
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
	due := c.Timestamp.Add(s.delay())
	start := time.Now()
	// Every chunk counts, with the time it waited here: one that reached
	// the stage after its due time (its reader was late) was still held to
	// the fault's delay, so the fault acted on it however busy the machine.
	defer func() { s.count(len(c.Data), time.Since(start)) }()
	if due.Sub(start) <= 0 {
		return true
	}
	if coarse := due.Sub(start) - timerGrain; coarse > 0 {
		timer.Reset(coarse)
		select {
		case <-timer.C:
		case <-stub.Interrupt:
			timer.Stop()
			return false
		case <-s.dead:
			timer.Stop()
			return false
		}
	}
	if s.finish != nil {
		s.finish(due)
	} else {
		sleepUntil(due)
	}
	// A following stage measures its own delay from here, so stacked
	// latency faults add up.
	c.Timestamp = due
	return true
}

// timerGrain is how late a Go timer may fire. When every goroutine is idle,
// the runtime sleeps in epoll_wait, whose timeout is in whole milliseconds,
// so a timer fires up to 1 ms late (0.5 ms on average). A latency stage
// therefore waits on a timer until timerGrain before the chunk is due and
// finishes with sleepUntil. That last part cannot be interrupted, but it is
// shorter than timerGrain.
const timerGrain = time.Millisecond

// spinGrain is how late nanosleep may return: the kernel's default timer
// slack is 50 µs.
const spinGrain = 75 * time.Microsecond

// sleepUntil blocks until t, for at most timerGrain: nanosleep until
// spinGrain before t, then yield the processor until t. Measured through the
// proxy on an idle machine, a timer alone adds 0.5 ms to a 10 ms latency on
// average, nanosleep alone 0.2–0.3 ms, this about 0.1 ms.
func sleepUntil(t time.Time) {
	if d := time.Until(t) - spinGrain; d > 0 {
		ts := syscall.NsecToTimespec(int64(min(d, timerGrain)))
		syscall.Nanosleep(&ts, nil) // EINTR: the loop below covers the rest
	}
	for time.Now().Before(t) {
		runtime.Gosched()
	}
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

// count records one held chunk of n bytes and how long it was held.
func (s *latencyStage) count(n int, held time.Duration) {
	s.fault.eff.delayed(n, held)
}
