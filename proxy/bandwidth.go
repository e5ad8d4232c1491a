package proxy

import (
	"time"

	"github.com/Shopify/toxiproxy/v2/stream"
	"github.com/Shopify/toxiproxy/v2/toxics"
)

// bandwidthSlice is the time one slice of a bandwidth stage is worth: a chunk
// is cut into slices of rate × bandwidthSlice bytes, so the rate holds over
// any window much longer than that, and a slow rate does not turn a 32 KiB
// chunk into one long silence and a burst.
const bandwidthSlice = 10 * time.Millisecond

// bandwidthStage limits one link to rate bytes per second. It keeps a
// schedule: slice i of n bytes is due at next, and next moves on by
// n / rate. An idle link earns no credit (next never lags behind now), so a
// burst after a pause is paced like any other. The stage's input is
// unbuffered: the link reads its source only as fast as the stage hands data
// on, and the sender feels the limit through TCP's flow control.
type bandwidthStage struct {
	rate float64 // bytes per second
	w    stageWait
}

// Pipe implements toxics.Toxic.
func (s *bandwidthStage) Pipe(stub *toxics.ToxicStub) {
	timer := newStoppedTimer()
	defer timer.Stop()
	slice := max(1, int(s.rate*bandwidthSlice.Seconds()))
	var next time.Time
	for {
		c, ok, _ := s.w.next(stub)
		switch {
		case !ok:
			return
		case c == nil:
			stub.Close()
			return
		}
		for data := c.Data; len(data) > 0; {
			n := min(slice, len(data))
			next = later(next, time.Now())
			if time.Until(next) > 0 {
				s.w.eff.bytesHeld.Add(int64(n))
			}
			switch s.w.sleep(stub, timer, time.Until(next)) {
			case stopped:
				s.w.emit(stub, &stream.StreamChunk{Data: data, Timestamp: c.Timestamp})
				return
			case died:
				return
			}
			if !s.w.emit(stub, &stream.StreamChunk{Data: data[:n], Timestamp: c.Timestamp}) {
				return
			}
			data = data[n:]
			next = next.Add(time.Duration(float64(n) / s.rate * float64(time.Second)))
		}
	}
}

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
