package httpload

import (
	"context"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"

	"github.com/chaosload/chaosload/load"
)

// vuState is the driver's per-VU state: buffers reused by every request
// of the VU, the connections of newConnection steps (owned for one
// iteration), and what lets a stop interrupt the request in flight.
type vuState struct {
	clock load.Clock

	head, body, out, scratch []byte // request rendering
	kept, hdrs               []byte // response body prefix and header lines

	// own are this iteration's newConnection connections (HTTP/1.1), by
	// address; ownStd its transport for https and net/http.
	own    []ownConn
	ownStd *http.Transport

	// cur is the connection of the request in flight; a stop sets its
	// deadline in the past.
	cur       atomic.Pointer[conn]
	watched   context.Context
	stopWatch func() bool

	// net/http: when the request got its connection, and whether it was
	// reused (GotConn).
	sent   atomic.Int64 // clock offset; -1 before GotConn
	reused atomic.Bool
	trace  *httptrace.ClientTrace
}

// ownConn is a connection dialled for one iteration.
type ownConn struct {
	addr string
	c    *conn
}

// stateKey keys vuState in load.VU.State.
type stateKey struct{}

// stateOf returns vu's state, making it on first use.
func (d *Driver) stateOf(vu *load.VU) *vuState {
	if s, ok := vu.State[stateKey{}].(*vuState); ok {
		return s
	}
	s := &vuState{clock: vu.Clock}
	s.trace = &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		s.sent.Store(int64(s.clock.Now()))
		s.reused.Store(info.Reused)
	}}
	vu.State[stateKey{}] = s
	d.track(s)
	return s
}

// watch makes a stop of ctx (a cancel, not only a deadline) interrupt the
// VU's request in flight. One watch per context: registering it costs a
// lock on the context, so it is done once, not per request.
func (s *vuState) watch(ctx context.Context) {
	if ctx == s.watched || ctx.Done() == nil {
		return
	}
	if s.stopWatch != nil {
		s.stopWatch()
	}
	s.watched = ctx
	s.stopWatch = context.AfterFunc(ctx, func() {
		if c := s.cur.Load(); c != nil {
			c.nc.SetDeadline(farPast)
		}
	})
}

// ownConn returns this iteration's connection to addr, nil when none.
func (s *vuState) ownConn(addr string) *conn {
	for _, o := range s.own {
		if o.addr == addr {
			return o.c
		}
	}
	return nil
}

// setOwn records (or, with c nil, forgets) this iteration's connection to
// addr.
func (s *vuState) setOwn(addr string, c *conn) {
	for i, o := range s.own {
		if o.addr == addr {
			if c == nil {
				s.own = append(s.own[:i], s.own[i+1:]...)
			} else {
				s.own[i].c = c
			}
			return
		}
	}
	if c != nil {
		s.own = append(s.own, ownConn{addr, c})
	}
}

// endIteration closes the iteration's own connections.
func (s *vuState) endIteration() {
	for _, o := range s.own {
		o.c.close()
	}
	s.own = s.own[:0]
	if s.ownStd != nil {
		s.ownStd.CloseIdleConnections()
	}
}
