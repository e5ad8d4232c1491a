package proxy

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/Shopify/toxiproxy/v2/stream"
	"github.com/Shopify/toxiproxy/v2/toxics"

	"github.com/chaosload/chaosload/faults"
)

// TestLatencyStageUnderVirtualTime runs a latency stage on the pipe
// protocol under testing/synctest: each chunk leaves exactly its drawn delay
// after it was read (the draws repeat with the seed), in order, while later
// chunks are read meanwhile; an interrupt (the fault's revert) hands every
// queued chunk on at once, in order; closing the input closes the output.
func TestLatencyStageUnderVirtualTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFault(5, "lat", faults.LatencySpec{Latency: 10 * time.Millisecond, Jitter: 3 * time.Millisecond}, 1)
		stage := func() *latencyStage {
			return &latencyStage{latency: 10 * time.Millisecond, jitter: 3 * time.Millisecond, fault: f,
				rng: stageRand(f.key, 1, stream.Downstream), dead: make(chan struct{}),
				finish: func(due time.Time) { time.Sleep(time.Until(due)) }}
		}
		s, replica := stage(), stage()
		in, out := make(chan *stream.StreamChunk, latencyBuffer), make(chan *stream.StreamChunk)
		stub := toxics.NewToxicStub(in, out)
		pl := &pipeline{}
		pl.wg.Add(1)
		go pl.runStage(s, stub, s.dead)

		const n = 5
		go func() {
			for i := range n {
				in <- &stream.StreamChunk{Data: []byte{byte(i)}, Timestamp: time.Now()}
				time.Sleep(time.Millisecond)
			}
		}()
		start := time.Now()
		var due time.Duration
		for i := range n {
			c := <-out
			due = max(due, time.Duration(i)*time.Millisecond+replica.delay()) // order is kept
			if c.Data[0] != byte(i) || time.Since(start) != due {
				t.Fatalf("chunk %d: got chunk %d after %v, want after %v", i, c.Data[0], time.Since(start), due)
			}
		}

		for i := range 3 {
			in <- &stream.StreamChunk{Data: []byte{byte(10 + i)}, Timestamp: time.Now()}
		}
		time.Sleep(time.Millisecond)
		close(stub.Interrupt)
		flushed := time.Now()
		for i := range 3 {
			if c := <-out; c.Data[0] != byte(10+i) || time.Since(flushed) != 0 {
				t.Fatalf("after the interrupt: got chunk %d after %v, want %d at once", c.Data[0], time.Since(flushed), 10+i)
			}
		}
		close(in)
		if _, open := <-out; open {
			t.Fatal("output still open after the input closed")
		}
		pl.wg.Wait()
		// A chunk already due when its turn comes (its predecessor was held
		// longer) is not held again, so not every chunk counts.
		if got := f.eff.chunksDelayed.Load(); got < 1 || got > n+1 || f.eff.delayNanos.Load() <= 0 {
			t.Errorf("delayed chunks counted: %d (held %v), want 1 to %d", got, time.Duration(f.eff.delayNanos.Load()), n+1)
		}
	})
}

// TestToxicityDraws: the draw is a pure function of key and sequence number,
// its share matches the toxicity, and the edges are exact.
func TestToxicityDraws(t *testing.T) {
	key := faultKey(42, "half")
	hits := 0
	for seq := uint64(1); seq <= 10000; seq++ {
		if selects(key, seq, 0.3) {
			hits++
		}
		if selects(key, seq, 0.3) != selects(faultKey(42, "half"), seq, 0.3) {
			t.Fatal("the draw is not repeatable")
		}
		if !selects(key, seq, 1) || selects(key, seq, 0) {
			t.Fatal("toxicity 1 must select every connection and 0 none")
		}
	}
	if hits < 2850 || hits > 3150 {
		t.Errorf("toxicity 0.3 selected %d of 10000", hits)
	}
}
