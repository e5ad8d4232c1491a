package wsload

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/chaosload/chaosload/load"
)

// session is one WebSocket connection of a step, from the handshake to the
// close. The VU's goroutine (inside Do) is its writer: it sends on the
// schedule, expires messages whose reply is overdue and closes; a reader
// goroutine reads every frame and answers the pending messages.
//
//	t0 ── send #0 ── send #1 ── … ── t0+hold ── replies drained ── close ── reader done
//	       (t0 + k·period: absolute, never shifted by a late write)
type session struct {
	conn  *websocket.Conn
	p     *plan
	sink  load.Sink
	clock load.Clock
	tags  load.Result // the step's tags, copied into every message's result
	pend  *pending

	readDone chan struct{} // closed when the reader has stopped
	readErr  error         // why it stopped; read only after readDone
	closing  atomic.Bool   // the writer began the close handshake
	timedOut atomic.Bool   // a message went without its reply
	bytesIn  atomic.Int64

	bytesOut int64  // the writer's
	wbuf     []byte // the writer's message buffer
	timer    *time.Timer
}

func newSession(conn *websocket.Conn, p *plan, sink load.Sink, clock load.Clock, step *load.Result) *session {
	return &session{
		conn: conn, p: p, sink: sink, clock: clock, pend: newPending(), readDone: make(chan struct{}),
		tags: load.Result{Kind: load.KindWSMessage, Scenario: step.Scenario, Step: step.Step,
			Protocol: step.Protocol, Target: step.Target, Tags: step.Tags},
	}
}

// run runs the session to its end and returns the step's class and error.
// It returns only after the reader goroutine has exited and the connection
// is closed.
func (s *session) run(ctx context.Context) (string, error) {
	stop := context.AfterFunc(ctx, func() { s.conn.Close() }) // unblocks a stuck write or read
	defer stop()
	var wg sync.WaitGroup
	wg.Go(s.read)
	defer wg.Wait()
	defer s.conn.Close()
	s.timer = time.NewTimer(time.Hour)
	s.timer.Stop() // Go ≥ 1.23 timers: a stopped or reset timer delivers nothing stale
	defer s.timer.Stop()

	writeErr := s.exchange(ctx, s.clock.Now())
	class, err := s.outcome(ctx, writeErr)
	if class == "" {
		s.close(ctx)
	}
	for _, o := range s.pend.drain() {
		s.recordSent(o, s.clock.Now(), unanswered(class))
	}
	if class == "" && s.timedOut.Load() {
		class, err = load.ClassTimeout, errors.New("ws: a message's reply did not come in time")
	}
	return class, err
}

// exchange sends what the plan says from t0 on, holds the connection and
// waits for the replies still due. It returns a write error, or nil when
// it ran to its end or was cut short (by ctx or the server: see outcome).
func (s *session) exchange(ctx context.Context, t0 time.Duration) error {
	end := t0 + s.p.hold
	if s.p.send {
		for k := int64(0); ; k++ {
			at := t0 + time.Duration(k)*s.p.period
			if k > 0 && (s.p.period == 0 || at >= end) {
				break
			}
			if !s.wait(ctx, at, false) {
				return nil
			}
			if err := s.send(k, at); err != nil {
				return err
			}
		}
	}
	if s.wait(ctx, end, false) {
		s.wait(ctx, -1, true)
	}
	return nil
}

// outcome is the session's class once the exchange is over: the context's
// when the step was stopped, ws_closed when the server ended the
// connection first, the write's error otherwise; "" when it went well.
//
// A write the peer refused (a reset, a broken pipe) means the server ended
// the connection: the reader sees the end too, and is waited for, so that
// which of the two noticed first does not change the class.
func (s *session) outcome(ctx context.Context, writeErr error) (string, error) {
	if errors.Is(writeErr, syscall.ECONNRESET) || errors.Is(writeErr, syscall.EPIPE) {
		select {
		case <-s.readDone:
		case <-ctx.Done():
		}
	}
	select {
	case <-s.readDone:
		if ctx.Err() == nil {
			return ClassClosed, s.closedErr()
		}
	default:
	}
	switch {
	case ctx.Err() != nil:
		return load.ClassOf(context.Cause(ctx)), context.Cause(ctx)
	case writeErr != nil:
		return load.ClassOf(writeErr), writeErr
	}
	return "", nil
}

// closedErr describes how the server ended the connection.
func (s *session) closedErr() error {
	return errors.Join(errors.New("ws: the server closed the connection"), s.readErr)
}

// unanswered is the class of a message still waiting when the session
// ended: the session's own failure, or a timeout after a clean end.
func unanswered(class string) string {
	if class == "" {
		return load.ClassTimeout
	}
	return class
}

// close does the close handshake: a close frame, then the server's answer
// (the reader sees it and stops), waited for at most controlTimeout.
func (s *session) close(ctx context.Context) {
	s.closing.Store(true)
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	if err := s.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(controlTimeout)); err != nil {
		return
	}
	s.timer.Reset(controlTimeout)
	select {
	case <-s.readDone:
	case <-s.timer.C:
	case <-ctx.Done():
	}
}

// send writes message seq, intended at at. With a reply expected it waits
// in pending (added before the write: the reply may beat the write's
// return); without, it is recorded at once, untimed.
func (s *session) send(seq int64, at time.Duration) error {
	start := s.clock.Now()
	if s.p.match != matchNone {
		s.pend.add(outstanding{seq: seq, intended: at, start: start, deadline: start + s.p.replyTimeout})
	}
	s.wbuf = s.p.appendMessage(s.wbuf[:0], seq)
	if err := s.conn.WriteMessage(websocket.TextMessage, s.wbuf); err != nil {
		return err
	}
	s.bytesOut += int64(len(s.wbuf))
	if s.p.match == matchNone {
		res := s.tags
		res.Direction, res.Untimed = load.DirectionSent, true
		res.Intended, res.Dispatched, res.Start, res.End = at, start, start, s.clock.Now()
		s.sink.Record(&res)
	}
	return nil
}

// wait waits until the clock reaches until (or, with drained, until no
// message waits for its reply; until is then ignored), expiring overdue
// messages meanwhile. It returns false when the session cannot go on: the
// reader stopped (the server closed) or ctx is done.
func (s *session) wait(ctx context.Context, until time.Duration, drained bool) bool {
	for {
		now := s.clock.Now()
		s.expire(now)
		next, waiting := s.pend.next()
		if drained && !waiting || !drained && now >= until {
			return true
		}
		if !drained && (!waiting || until < next) {
			next = until
		}
		s.timer.Reset(max(next-now, 0))
		select {
		case <-s.timer.C:
		case <-s.pend.changed:
			s.timer.Stop()
		case <-s.readDone:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// expire records the messages whose reply is overdue as timeouts.
func (s *session) expire(now time.Duration) {
	for _, o := range s.pend.expire(now) {
		s.timedOut.Store(true)
		s.recordSent(o, now, load.ClassTimeout)
	}
}

// recordSent records sent message o, answered (class "") or given up at
// end.
func (s *session) recordSent(o outstanding, end time.Duration, class string) {
	res := s.tags
	res.Direction, res.Class = load.DirectionSent, class
	res.Intended, res.Dispatched, res.Start, res.End = o.intended, o.start, o.start, end
	s.sink.Record(&res)
}
