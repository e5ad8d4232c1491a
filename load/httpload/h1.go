package httpload

import (
	"context"
	"net/url"
	"time"

	"github.com/chaosload/chaosload/load"
)

// doH1 performs r over the driver's HTTP/1.1 client.
//
//	render head and body ─▶ connection (pool, or the iteration's own) ─▶ Start
//	  ─▶ write, read the response whole ─▶ back to the pool / closed ─▶ finish
//
// A request that fails on a reused connection before a byte of response
// came back is retried once on a new connection when that is safe (the
// method is idempotent, or nothing was written), as net/http does: an idle
// connection the server closed is not the request's failure.
func (d *Driver) doH1(ctx context.Context, vu *load.VU, st *vuState, r *request, u *url.URL, res *load.Result) {
	pay, buf, err := r.body.open(vu, st.body)
	st.body = buf[:0]
	if err != nil {
		failNow(res, vu, load.ClassOther, err)
		return
	}
	defer pay.close()
	head := r.head
	if head == nil {
		if head, err = r.appendHead(st.head[:0], vu, u, pay.n); err != nil {
			failNow(res, vu, load.ClassOther, err)
			return
		}
		st.head = head[:0]
	}
	st.watch(ctx)
	deadline := time.Now().Add(r.timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	a := addr(u)
	p := d.pool(a)
	for fresh := false; ; fresh = true {
		c, dialed, err := d.acquire(ctx, st, p, r, a, deadline, fresh)
		res.Start = vu.Clock.Now()
		if err != nil {
			fail(ctx, res, err)
			return
		}
		if dialed {
			res.NewConns++
		}
		x, err := d.exchange(st, c, head, pay, r, deadline)
		res.BytesOut, res.BytesIn, res.Status = x.out, x.in, x.status
		if err == nil {
			d.release(st, p, r, a, c, x.keepAlive)
			finish(res, vu, r, x.status, st.kept, func(name string) string { return headerOf(st.hdrs, name) })
			return
		}
		d.drop(st, p, r, a, c)
		if dialed || fresh || x.gotByte || pay.streamed() || !(idempotent(r.method) || !x.written) ||
			ctx.Err() != nil || !time.Now().Before(deadline) {
			fail(ctx, res, err)
			return
		}
	}
}

// exchange runs one round trip on c, interruptible by a stop (watch).
func (d *Driver) exchange(st *vuState, c *conn, head []byte, pay payload, r *request, deadline time.Time) (exchange, error) {
	c.nc.SetDeadline(deadline)
	st.cur.Store(c)
	x, err := c.roundTrip(head, pay, r.method, st, r.keepBody, r.keepHeaders)
	st.cur.Store(nil)
	return x, err
}

// acquire returns a connection for r: the iteration's own for a
// newConnection step (dialled on its first use), else one of the pool.
// fresh asks for a new connection (the retry after a stale one). A request
// that may not be retried (POST, PATCH), or any request on a connection
// idle for idleCheckAfter, is not sent on a connection the peer has closed
// or written to meanwhile (a reset fault, an idle timeout, an unasked 408).
func (d *Driver) acquire(ctx context.Context, st *vuState, p *pool, r *request, a string, deadline time.Time, fresh bool) (*conn, bool, error) {
	if !r.newConn {
		for {
			c, dialed, err := p.get(ctx, deadline, fresh)
			if err != nil || dialed || c.reusable(idempotent(r.method)) {
				return c, dialed, err
			}
			p.discard(c)
		}
	}
	if c := st.ownConn(a); c != nil && !fresh {
		if c.reusable(idempotent(r.method)) {
			return c, false, nil
		}
		c.close()
		st.setOwn(a, nil)
	}
	c, err := p.dial(ctx, deadline)
	if err != nil {
		return nil, false, err
	}
	st.setOwn(a, c)
	return c, true, nil
}

// release keeps a connection after a complete exchange: in the pool, or as
// the iteration's own; closed when the server said so.
func (d *Driver) release(st *vuState, p *pool, r *request, a string, c *conn, keepAlive bool) {
	switch {
	case r.newConn && keepAlive:
	case r.newConn:
		c.close()
		st.setOwn(a, nil)
	case keepAlive:
		p.put(c)
	default:
		p.discard(c)
	}
}

// drop closes a connection after a failed exchange.
func (d *Driver) drop(st *vuState, p *pool, r *request, a string, c *conn) {
	if r.newConn {
		c.close()
		st.setOwn(a, nil)
		return
	}
	p.discard(c)
}

// idempotent reports whether a request of method may be sent twice.
func idempotent(method string) bool {
	switch method {
	case "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE":
		return true
	}
	return false
}
