package proxy

import (
	"time"

	"github.com/Shopify/toxiproxy/v2/toxics"
)

// timeoutStage black-holes its link: every chunk is discarded, and timeout
// after the fault first reached the link (0: never) the connection is
// closed. When the fault is reverted, a link that lost data closes the
// connection (its stream is no longer whole, as Toxiproxy's timeout does on
// removal); one that lost nothing carries on.
type timeoutStage struct {
	timeout time.Duration
	st      *linkState // start: when the fault reached the link; passed: bytes dropped
	c       *conn
	w       stageWait
}

// Pipe implements toxics.Toxic.
func (s *timeoutStage) Pipe(stub *toxics.ToxicStub) {
	var expire <-chan time.Time
	if s.timeout > 0 {
		t := time.NewTimer(s.timeout - time.Since(s.st.start))
		defer t.Stop()
		expire = t.C
	}
	for {
		select {
		case c := <-stub.Input:
			if c == nil {
				stub.Close()
				return
			}
			s.st.passed += int64(len(c.Data))
			s.w.eff.bytesDropped.Add(int64(len(c.Data)))
		case <-expire:
			s.w.eff.connsReset.Add(1)
			s.c.close(false)
			return
		case <-stub.Interrupt:
			s.stop()
			return
		case <-s.w.gone:
			s.stop()
			return
		case <-s.w.dead:
			return
		}
	}
}

// stop ends the black hole: a link that dropped data closes the connection.
func (s *timeoutStage) stop() {
	if s.st.passed > 0 {
		s.w.eff.connsReset.Add(1)
		s.c.close(false)
	}
}
