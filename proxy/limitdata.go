package proxy

import (
	"github.com/Shopify/toxiproxy/v2/stream"
	"github.com/Shopify/toxiproxy/v2/toxics"
)

// limitStage passes on at most limit bytes on its link while its fault is
// applied, then ends the stream, which closes the connection (as
// Toxiproxy's limit_data does). The count lives in the link's state for the
// fault, so it survives the pipeline being rebuilt for another fault.
type limitStage struct {
	limit int64
	st    *linkState
	w     stageWait
}

// Pipe implements toxics.Toxic.
func (s *limitStage) Pipe(stub *toxics.ToxicStub) {
	for {
		if s.st.passed >= s.limit {
			if !s.st.ended {
				s.st.ended = true
				s.w.eff.connsReset.Add(1)
			}
			stub.Close()
			return
		}
		c, ok, _ := s.w.next(stub)
		switch {
		case !ok:
			return
		case c == nil:
			stub.Close()
			return
		}
		if left := s.limit - s.st.passed; int64(len(c.Data)) > left {
			s.w.eff.bytesDropped.Add(int64(len(c.Data)) - left)
			c = &stream.StreamChunk{Data: c.Data[:left], Timestamp: c.Timestamp}
		}
		if !s.w.emit(stub, c) {
			return
		}
		s.st.passed += int64(len(c.Data))
	}
}
