package proxy

import (
	"math/rand/v2"
	"time"

	"github.com/Shopify/toxiproxy/v2/stream"
	"github.com/Shopify/toxiproxy/v2/toxics"
)

// slicerStage cuts every chunk into slices of size ± a uniform variation
// bytes (at least 1) and hands them on delay apart, so the receiver reads
// the data in small pieces over time. The sizes are drawn from the link's
// seeded generator.
type slicerStage struct {
	size, variation int
	delay           time.Duration
	rng             *rand.Rand
	w               stageWait
}

// Pipe implements toxics.Toxic.
func (s *slicerStage) Pipe(stub *toxics.ToxicStub) {
	timer := newStoppedTimer()
	defer timer.Stop()
	for {
		c, ok, _ := s.w.next(stub)
		switch {
		case !ok:
			return
		case c == nil:
			stub.Close()
			return
		}
		for data, first := c.Data, true; len(data) > 0; first = false {
			n := min(s.sliceLen(), len(data))
			if first && s.delay > 0 {
				s.w.eff.bytesHeld.Add(int64(len(data) - n))
			}
			if !s.w.emit(stub, &stream.StreamChunk{Data: data[:n], Timestamp: c.Timestamp}) {
				return
			}
			data = data[n:]
			switch s.w.sleep(stub, timer, s.delay) {
			case stopped:
				if len(data) > 0 {
					s.w.emit(stub, &stream.StreamChunk{Data: data, Timestamp: c.Timestamp})
				}
				return
			case died:
				return
			}
		}
	}
}

// sliceLen draws the length of the next slice.
func (s *slicerStage) sliceLen() int {
	n := s.size
	if s.variation > 0 {
		n += s.rng.IntN(2*s.variation+1) - s.variation
	}
	return max(n, 1)
}
