package proxy

import (
	"math/rand/v2"
	"time"

	"github.com/Shopify/toxiproxy/v2/toxics"

	"github.com/chaosload/chaosload/faults"
)

// maxRTO caps the loss model's doubling, as Linux caps its RTO
// (TCP_RTO_MAX is 120 s): the most a first RTO may be, too.
const maxRTO = faults.MaxRTO

// lossStage models packet loss on a TCP connection without ever dropping a
// byte. A TCP proxy cannot drop a segment without corrupting the stream, so
// it shows what loss does to the application instead: a lost segment stalls
// the stream until it is retransmitted. Each chunk is lost with probability
// rate; a lost chunk and everything behind it (order is kept: later chunks
// queue in the stage's input) is held for the RTO, and while the
// retransmission is lost too (probability rate again) for twice as long
// more, as TCP's exponential backoff does:
//
//	held = rto·(1 + 2 + … + 2^(k−1)),  P(k losses in a row) = rate^k·(1 − rate)
//
// A chunk is one read from the source, often one request or response; the
// model is per chunk, not per MSS-sized segment, so a large chunk counts as
// one segment. Draws come from the link's seeded generator.
type lossStage struct {
	rate  float64
	rto   time.Duration
	rng   *rand.Rand
	fault *fault // for its counters
	w     stageWait
}

// Pipe implements toxics.Toxic.
func (s *lossStage) Pipe(stub *toxics.ToxicStub) {
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
		held := s.held()
		start := time.Now()
		end := s.w.sleep(stub, timer, held)
		if held > 0 {
			s.fault.eff.delayed(len(c.Data), time.Since(start))
		}
		if end == died || !s.w.emit(stub, c) || end == stopped {
			return
		}
	}
}

// held draws how long the next chunk is held: 0 when it is not lost.
func (s *lossStage) held() time.Duration {
	var d time.Duration
	for rto := s.rto; s.rng.Float64() < s.rate; rto = min(2*rto, maxRTO) {
		d += rto
	}
	return d
}
