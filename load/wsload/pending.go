package wsload

import (
	"sort"
	"sync"
	"time"
)

// pending are the messages sent that still wait for their reply, in the
// order sent, which is the order of their numbers and of their deadlines.
// The writer adds and expires, the reader answers; both under mu.
//
//	queue: [ #4 ✓ | #5 | #6 ✓ | #7 ]   ✓ answered out of order (correlating)
//	        └ front: popped once answered, so the front is the oldest waiting
type pending struct {
	mu      sync.Mutex
	queue   []outstanding
	head    int           // queue[head:] is live
	waiting int           // entries not answered
	changed chan struct{} // a reply arrived (room for one: never blocks)
}

// outstanding is one message waiting for its reply.
type outstanding struct {
	seq      int64
	intended time.Duration
	start    time.Duration
	deadline time.Duration
	answered bool
}

func newPending() *pending { return &pending{changed: make(chan struct{}, 1)} }

// add notes a message sent.
func (p *pending) add(o outstanding) {
	p.mu.Lock()
	p.queue = append(p.queue, o)
	p.waiting++
	p.mu.Unlock()
}

// answerFirst takes the oldest message waiting: replies matched in order.
func (p *pending) answerFirst() (outstanding, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.compact()
	if p.head == len(p.queue) {
		return outstanding{}, false
	}
	return p.answerAt(p.head), true
}

// answerSeq takes message seq, wherever it waits: replies correlated by
// number, in any order.
func (p *pending) answerSeq(seq int64) (outstanding, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	live := p.queue[p.head:]
	i := sort.Search(len(live), func(i int) bool { return live[i].seq >= seq })
	if i == len(live) || live[i].seq != seq || live[i].answered {
		return outstanding{}, false
	}
	o := p.answerAt(p.head + i)
	p.compact()
	return o, true
}

// answerAt marks entry i answered and signals the change; p.mu is held.
func (p *pending) answerAt(i int) outstanding {
	p.queue[i].answered = true
	p.waiting--
	select {
	case p.changed <- struct{}{}:
	default:
	}
	return p.queue[i]
}

// expire removes and returns the messages whose deadline is at or before
// now.
func (p *pending) expire(now time.Duration) []outstanding {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []outstanding
	for p.compact(); p.head < len(p.queue) && p.queue[p.head].deadline <= now; p.compact() {
		out = append(out, p.queue[p.head])
		p.queue[p.head].answered = true
		p.waiting--
	}
	return out
}

// drain removes and returns every message still waiting.
func (p *pending) drain() []outstanding {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []outstanding
	for _, o := range p.queue[p.head:] {
		if !o.answered {
			out = append(out, o)
		}
	}
	p.queue, p.head, p.waiting = p.queue[:0], 0, 0
	return out
}

// next returns the earliest deadline of a message waiting, false when none
// waits.
func (p *pending) next() (time.Duration, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.compact()
	if p.head == len(p.queue) {
		return 0, false
	}
	return p.queue[p.head].deadline, true
}

// compact pops answered entries off the front, and reuses the slice once
// it is empty; p.mu is held.
func (p *pending) compact() {
	for p.head < len(p.queue) && p.queue[p.head].answered {
		p.head++
	}
	if p.head == len(p.queue) {
		p.queue, p.head = p.queue[:0], 0
	} else if p.head > 1024 && p.head > len(p.queue)/2 {
		n := copy(p.queue, p.queue[p.head:])
		p.queue, p.head = p.queue[:n], 0
	}
}
