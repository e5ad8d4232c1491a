package proxy

import (
	"bytes"
	"fmt"
	"time"

	"github.com/Shopify/toxiproxy/v2/stream"
	"github.com/Shopify/toxiproxy/v2/toxics"

	"github.com/chaosload/chaosload/faults"
)

// protoUpStage parses the client's requests of one connection and passes
// them on, holds them or has them answered (see protocol.go).
type protoUpStage struct {
	f  *fault
	s  *protoSession
	l  *link
	pl *pipeline
	w  stageWait
	// pend gathers the bytes of consecutive pass-through steps of one
	// chunk, so that they go on as one chunk (one write upstream) rather
	// than one per message.
	pend []byte
}

// Pipe implements toxics.Toxic.
func (u *protoUpStage) Pipe(stub *toxics.ToxicStub) {
	timer := newStoppedTimer()
	for {
		c, ok, end := u.w.next(stub)
		switch {
		case !ok && end == stopped:
			u.flush(stub) // the fault left: what is held passes as it is
			return
		case !ok: // the connection died
			return
		case c == nil:
			if u.pl.eof.Load() {
				u.flush(stub)
			}
			stub.Close()
			return
		}
		if !u.handle(stub, timer, c) {
			return
		}
		u.s.settle()
	}
}

// flush passes on the bytes not yet handled; false when the connection
// died.
func (u *protoUpStage) flush(stub *toxics.ToxicStub) bool {
	if len(u.s.buf) == 0 {
		return true
	}
	data := u.s.buf
	u.s.buf = nil
	return u.w.emit(stub, &stream.StreamChunk{Data: data, Timestamp: time.Now()})
}

// handle parses one chunk and carries out every step it completes; false
// when the connection died.
func (u *protoUpStage) handle(stub *toxics.ToxicStub, timer *time.Timer, c *stream.StreamChunk) bool {
	if u.s.lost.Load() { // given up, here or by the response stage: first what was held
		return u.flush(stub) && u.w.emit(stub, c)
	}
	if len(u.s.buf) == 0 {
		u.s.buf = c.Data
	} else {
		u.s.buf = append(u.s.buf, c.Data...)
	}
	for len(u.s.buf) > 0 {
		st := u.decide()
		if st.lost != "" {
			if !u.emitPending(stub, c.Timestamp) {
				return false
			}
			u.giveUp(st.lost)
			return u.flush(stub)
		}
		if st.n == 0 {
			break
		}
		if !u.carryOut(stub, timer, st, c.Timestamp) {
			return false
		}
	}
	return u.emitPending(stub, c.Timestamp)
}

// decide asks the codec what to do with the buffered bytes and books what
// the step owes at once, under the session's lock: a revert's settle sees
// either the whole decision (its answer queued) or, after it, leaving (no
// decision). The injected error is counted with its answer queued, under
// the same lock: a revert that follows the count finds the answer owed, and
// a client that got the answer finds it counted.
func (u *protoUpStage) decide() upStep {
	s := u.s
	s.mu.Lock()
	st := u.nextStep()
	if st.lost == "" && st.n > 0 {
		s.book(st)
	}
	if st.counted {
		u.f.eff.requestsErrored.Add(1)
	}
	s.upOwes = st.lost == "" && s.up.owes()
	s.mu.Unlock()
	if st.answer != nil {
		s.wakeDown()
	}
	return st
}

// nextStep asks the codec what to do with the buffered bytes. A codec that
// panics or claims bytes it was not given gives the connection up: a parser
// meeting bytes it did not foresee must never take the proxy down.
func (u *protoUpStage) nextStep() (st upStep) {
	defer func() {
		if r := recover(); r != nil {
			st = upStep{lost: fmt.Sprintf("the request parser failed: %v", r)}
		}
	}()
	st = u.s.up.next(u.s.buf)
	if st.n < 0 || st.n > len(u.s.buf) {
		return upStep{lost: fmt.Sprintf("the request parser claimed %d bytes of %d", st.n, len(u.s.buf))}
	}
	return st
}

// emitPending passes on the gathered pass-through bytes; false when the
// connection died.
func (u *protoUpStage) emitPending(stub *toxics.ToxicStub, ts time.Time) bool {
	if len(u.pend) == 0 {
		return true
	}
	data := u.pend
	u.pend = nil
	return u.w.emit(stub, &stream.StreamChunk{Data: data, Timestamp: ts})
}

// passThrough reports a step that only passes its bytes on.
func (st upStep) passThrough() bool {
	return !st.drop && st.extra == nil && st.answer == nil && st.reply == nil && !st.delay && !st.counted
}

// carryOut does what one step says with the first st.n bytes of the buffer
// (decide booked what it owes).
func (u *protoUpStage) carryOut(stub *toxics.ToxicStub, timer *time.Timer, st upStep, ts time.Time) bool {
	data := u.s.buf[:st.n:st.n]
	if st.n == len(u.s.buf) {
		u.s.buf = nil
	} else {
		u.s.buf = u.s.buf[st.n:]
	}
	if st.passThrough() {
		u.pend = append(u.pend, data...)
		return true
	}
	if !u.emitPending(stub, ts) {
		return false
	}
	if st.delay && u.hold(stub, timer) == died {
		return false
	}
	if st.reply != nil {
		n, err := u.l.c.client.Write(st.reply)
		u.l.c.links[stream.Downstream].written.Add(uint64(n)) // the client's socket: see awaitDrained
		if err != nil {
			u.l.c.closeSoon()
		}
	}
	if !st.drop && !u.w.emit(stub, &stream.StreamChunk{Data: bytes.Clone(data), Timestamp: ts}) {
		return false
	}
	return st.extra == nil || u.w.emit(stub, &stream.StreamChunk{Data: st.extra, Timestamp: ts})
}

// hold waits the delay of a delay fault, latency ± jitter.
func (u *protoUpStage) hold(stub *toxics.ToxicStub, timer *time.Timer) waitEnd {
	spec, ok := u.f.spec.(faults.RequestDelaySpec)
	if !ok {
		return waited
	}
	d := u.s.delay(spec)
	u.f.eff.requestsDelayed.Add(1)
	u.f.eff.delayNanos.Add(int64(d))
	return u.w.sleep(stub, timer, d)
}

// delay draws one delay of spec, latency ± jitter. Only the request stage
// draws (the session's generator is its own); a response's delay is drawn
// when its request is parsed and carried to the response stage.
func (s *protoSession) delay(spec faults.RequestDelaySpec) time.Duration {
	d := spec.Latency
	if spec.Jitter > 0 {
		d += time.Duration(s.rng.Int64N(int64(2*spec.Jitter+1))) - spec.Jitter
	}
	return d
}

// giveUp stops parsing the connection: everything passes from now on.
func (u *protoUpStage) giveUp(why string) {
	u.s.lost.Store(true)
	u.f.uninspectable.Add(1)
	u.f.logLost(u.l.c, why)
}

// logLost says why the fault gave connection c up.
func (f *fault) logLost(c *conn, why string) {
	c.p.log.Error().Str("fault", f.name).Uint64("conn", c.seq).Str("reason", why).
		Msg("cannot inspect this connection: the fault does not apply to it")
}

// protoDownStage parses the server's responses of one connection, counts
// them and splices the proxy's answers in at their places.
type protoDownStage struct {
	f     *fault
	s     *protoSession
	l     *link
	pl    *pipeline
	w     stageWait
	timer *time.Timer // for the holds of a downHolder codec
}

// downHolder is a downCodec that may ask for a response to be held (an
// http-delay on responses): after next, takeHold returns how long to hold
// what follows, from the start of the bytes next just consumed.
type downHolder interface {
	takeHold() time.Duration
}

// Pipe implements toxics.Toxic.
func (d *protoDownStage) Pipe(stub *toxics.ToxicStub) {
	if !d.emitReady(stub) {
		return
	}
	d.s.settle()
	for {
		select {
		case c, ok := <-stub.Input:
			if !ok {
				d.emitReady(stub)
				d.s.settle()
				stub.Close()
				return
			}
			if !d.handle(stub, c) {
				return
			}
			d.s.settle()
		case <-d.s.wake:
			if !d.emitReady(stub) {
				return
			}
			d.s.settle()
		case <-stub.Interrupt:
			d.emitReady(stub)
			return
		case <-d.w.gone:
			d.emitReady(stub)
			return
		case <-d.w.dead:
			return
		}
	}
}

// emitReady passes on the answers whose place has come, if the stream is
// between responses.
func (d *protoDownStage) emitReady(stub *toxics.ToxicStub) bool {
	if !d.s.down.boundary() && !d.s.lost.Load() {
		return true
	}
	for _, a := range d.s.ready(false) {
		if !d.w.emit(stub, &stream.StreamChunk{Data: a, Timestamp: time.Now()}) {
			return false
		}
	}
	return true
}

// handle passes one chunk on, cut where answers go in.
func (d *protoDownStage) handle(stub *toxics.ToxicStub, c *stream.StreamChunk) bool {
	if d.s.lost.Load() {
		return d.w.emit(stub, c)
	}
	data := c.Data
	start, off := 0, 0
	emit := func(b []byte) bool {
		return len(b) == 0 || d.w.emit(stub, &stream.StreamChunk{Data: b, Timestamp: c.Timestamp})
	}
	holder, _ := d.s.down.(downHolder)
	for off < len(data) {
		if !d.s.swallowing && d.s.down.boundary() && d.s.startSwallow() {
			if !emit(data[start:off]) {
				return false
			}
			d.s.swallowing = true
		}
		n, ev := d.nextEvent(data[off:])
		if holder != nil {
			if h := holder.takeHold(); h > 0 {
				if !emit(data[start:off]) {
					return false
				}
				start = off
				if d.holdFor(stub, h) == died {
					return false
				}
			}
		}
		off += n
		if d.s.swallowing { // a response the proxy replaces: its bytes go nowhere
			start = off
			if ev == evDone {
				d.s.swallowing = false
			}
		}
		var answers [][]byte
		switch ev {
		case evBeforeZ:
			answers = d.s.ready(true)
		case evDone:
			if d.s.responded() {
				data[off-1] = failedStatus(data[off-1])
			}
			answers = d.s.ready(false)
		case evLost:
			d.s.lost.Store(true)
			d.f.uninspectable.Add(1)
			return emit(data[start:]) && d.emitReady(stub)
		}
		if len(answers) > 0 {
			if !emit(data[start:off]) {
				return false
			}
			start = off
			for _, a := range answers {
				if !emit(a) {
					return false
				}
			}
		}
	}
	return emit(data[start:])
}

// nextEvent asks the codec to frame the server's bytes b. A codec that
// panics or consumes bytes it was not given gives the connection up, as in
// protoUpStage.nextStep.
func (d *protoDownStage) nextEvent(b []byte) (n int, ev downEvent) {
	defer func() {
		if r := recover(); r != nil {
			d.f.logLost(d.l.c, fmt.Sprintf("the response parser failed: %v", r))
			n, ev = 0, evLost
		}
	}()
	n, ev = d.s.down.next(b)
	if n < 0 || n > len(b) {
		d.f.logLost(d.l.c, fmt.Sprintf("the response parser consumed %d bytes of %d", n, len(b)))
		return 0, evLost
	}
	return n, ev
}

// holdFor holds the response stream for h (a response of an http-delay on
// responses): whatever comes next from the server waits, so order is kept.
// A revert ends the hold early. A request held both ways counts once, when
// the request was held.
func (d *protoDownStage) holdFor(stub *toxics.ToxicStub, h time.Duration) waitEnd {
	if d.timer == nil {
		d.timer = newStoppedTimer()
	}
	if spec, _ := d.f.spec.(faults.RequestDelaySpec); !spec.Holds(faults.Upstream) {
		d.f.eff.requestsDelayed.Add(1)
	}
	d.f.eff.delayNanos.Add(int64(h))
	return d.w.sleep(stub, d.timer, h)
}

// failedStatus is the ReadyForQuery status after an error: a transaction
// block becomes failed.
func failedStatus(s byte) byte {
	if s == 'T' {
		return 'E'
	}
	return s
}
