package proxy

import (
	"time"

	"github.com/Shopify/toxiproxy/v2/toxics"
)

// slowCloseStage passes data on unchanged and delays the end of the stream
// (the source half-closed) by delay before the link passes the close on.
// The end of its input for any other reason (the pipeline is rebuilt for
// another fault) is passed on at once: eof tells them apart.
type slowCloseStage struct {
	delay time.Duration
	eof   func() bool // the pipeline's input ended because the source did
	w     stageWait
}

// Pipe implements toxics.Toxic.
func (s *slowCloseStage) Pipe(stub *toxics.ToxicStub) {
	for {
		c, ok, _ := s.w.next(stub)
		switch {
		case !ok:
			return
		case c == nil:
			if s.eof() {
				if s.delay > 0 {
					s.w.eff.connsDelayed.Add(1)
				}
				timer := newStoppedTimer()
				end := s.w.sleep(stub, timer, s.delay)
				timer.Stop()
				if end == died {
					return
				}
			}
			stub.Close()
			return
		}
		if !s.w.emit(stub, c) {
			return
		}
	}
}
