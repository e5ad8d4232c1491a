package load

import (
	"sync"
	"sync/atomic"
	"time"
)

// Offer is what an open-model scenario offered of the arrivals its schedule
// intended in a span of time. Arrivals are counted by their intended time,
// like every result.
type Offer struct {
	Scenario string
	// Intended counts the arrivals the schedule placed in the span.
	Intended int64
	// Missed counts those the generator never made: neither started nor
	// dropped, because it reached them only after the scenario's stop (its
	// own lateness) or the load was stopped first. An arrival dropped for
	// want of a free VU was made: the target kept the VUs busy.
	Missed int64
}

// Made is how many of the intended arrivals were started or dropped.
func (o Offer) Made() int64 { return o.Intended - o.Missed }

// Offered returns, for each open-model scenario in the order given to New,
// what it offered of the arrivals intended in [from, to). Call it once Run
// has returned. The schedule is walked again from its start (a Poisson one
// is drawn again from the same seed), so a call costs one pacer step per
// arrival before to.
func (l *Load) Offered(from, to time.Duration) []Offer {
	var out []Offer
	for _, r := range l.runs {
		if r.sc.OpenModel() {
			out = append(out, r.offered(from, to))
		}
	}
	return out
}

// offered counts the scenario's arrivals intended in [from, to) (of its
// segment) and those of them not made.
func (s *scenarioRun) offered(from, to time.Duration) Offer {
	o := Offer{Scenario: s.sc.Name}
	cut := s.offer.cut.Load()
	p := pacerOf(s.sc, s.seed)
	for i := int64(0); ; i++ {
		off, ok := p.Arrival(i)
		at := s.sc.StartTime + off
		if !ok || at >= to {
			break
		}
		if at >= from && s.seg.Owns(i) {
			o.Intended++
			if cut > 0 && i >= cut-1 {
				o.Missed++
			}
		}
	}
	o.Missed += s.offer.skipped(from, to)
	return o
}

// offerLog notes the arrivals an open-model scenario did not make: every
// one from the index where the scheduler stopped (cut, index+1; 0 while it
// has not), and the few a VU received only once the scenario was stopping.
type offerLog struct {
	cut  atomic.Int64
	mu   sync.Mutex
	late []time.Duration // intended times of arrivals handed on but not started
}

// cutAt notes that the scheduler stopped before arrival i.
func (o *offerLog) cutAt(i int64) { o.cut.Store(i + 1) }

// skip notes an arrival, intended at at, handed to a VU that did not start
// it.
func (o *offerLog) skip(at time.Duration) {
	o.mu.Lock()
	o.late = append(o.late, at)
	o.mu.Unlock()
}

// skipped counts the skipped arrivals intended in [from, to).
func (o *offerLog) skipped(from, to time.Duration) int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	var n int64
	for _, at := range o.late {
		if at >= from && at < to {
			n++
		}
	}
	return n
}
