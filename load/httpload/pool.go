package httpload

import (
	"context"
	"net"
	"sync"
	"time"
)

// pool holds the keep-alive HTTP/1.1 connections to one host:port. A
// request takes the most recently used idle connection, else dials a new
// one while fewer than max are open (0: no cap), else waits for one to be
// put back or closed: that wait is the target's (a full pool), so it counts
// in latency and dispatch lag, never in service time.
//
//	get ─▶ idle? ─yes─▶ reuse
//	        └ no ─▶ open < max? ─yes─▶ dial
//	                 └ no ─▶ wait: put hands over a conn, drop a dial slot
type pool struct {
	addr    string
	dialer  *net.Dialer
	max     int
	maxIdle int

	mu      sync.Mutex
	idle    []*conn
	open    int
	waiters []chan *conn // a nil conn hands over a dial slot
	closed  bool
}

// get returns a connection to the pool's address and whether it was
// dialled for this call; fresh skips the idle ones. Dialling is bounded by
// deadline and ctx.
func (p *pool) get(ctx context.Context, deadline time.Time, fresh bool) (*conn, bool, error) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 && !fresh {
		c := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return c, false, nil
	}
	if p.max <= 0 || p.open < p.max {
		p.open++
		p.mu.Unlock()
		return p.dialSlot(ctx, deadline)
	}
	w := make(chan *conn, 1)
	p.waiters = append(p.waiters, w)
	p.mu.Unlock()
	return p.wait(ctx, deadline, w)
}

// wait waits for a connection or a dial slot handed over on w.
func (p *pool) wait(ctx context.Context, deadline time.Time, w chan *conn) (*conn, bool, error) {
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case c := <-w:
		if c != nil {
			return c, false, nil
		}
		return p.dialSlot(ctx, deadline)
	case <-ctx.Done():
		p.abandon(w)
		return nil, false, context.Cause(ctx)
	case <-t.C:
		p.abandon(w)
		return nil, false, errPoolTimeout
	}
}

// abandon withdraws a waiter; what was handed over meanwhile goes back.
func (p *pool) abandon(w chan *conn) {
	p.mu.Lock()
	for i, x := range p.waiters {
		if x == w {
			p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
			p.mu.Unlock()
			return
		}
	}
	p.mu.Unlock()
	if c := <-w; c != nil { // handed over before we withdrew
		p.put(c)
	} else {
		p.release()
	}
}

// dialSlot dials on a slot already counted in open.
func (p *pool) dialSlot(ctx context.Context, deadline time.Time) (*conn, bool, error) {
	c, err := p.dial(ctx, deadline)
	if err != nil {
		p.release()
		return nil, false, err
	}
	return c, true, nil
}

// dial opens a connection outside any accounting (newConnection steps use
// it directly).
func (p *pool) dial(ctx context.Context, deadline time.Time) (*conn, error) {
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	nc, err := p.dialer.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		return nil, err
	}
	return newConn(nc), nil
}

// put returns a healthy connection after a complete exchange: to a waiter,
// else to the idle list, else (too many idle) closes it.
func (p *pool) put(c *conn) {
	p.mu.Lock()
	if len(p.waiters) > 0 {
		w := p.waiters[0]
		p.waiters = p.waiters[1:]
		p.mu.Unlock()
		w <- c
		return
	}
	if !p.closed && len(p.idle) < p.maxIdle {
		p.idle = append(p.idle, c)
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	p.discard(c)
}

// discard closes a connection that cannot be reused and frees its slot.
func (p *pool) discard(c *conn) {
	c.close()
	p.release()
}

// release frees one slot: a waiter dials on it, else open shrinks.
func (p *pool) release() {
	p.mu.Lock()
	if len(p.waiters) > 0 {
		w := p.waiters[0]
		p.waiters = p.waiters[1:]
		p.mu.Unlock()
		w <- nil
		return
	}
	p.open--
	p.mu.Unlock()
}

// closeIdle closes every idle connection; with final, later puts close
// theirs too.
func (p *pool) closeIdle(final bool) {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.open -= len(idle)
	p.closed = p.closed || final
	p.mu.Unlock()
	for _, c := range idle {
		c.close()
	}
}
