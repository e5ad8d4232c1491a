package proxy

import (
	"context"
	"fmt"
	"net"
	"time"
)

// acceptLoop accepts connections and hands each to its own goroutine; the
// upstream dial happens there, so a slow upstream never holds up the next
// client. While a down fault holds the listener closed, it waits for the
// listener to come back. It returns when ctx is done.
func (p *Proxy) acceptLoop(ctx context.Context) error {
	var seq uint64
	backoff := time.Duration(0)
	for {
		ln, ready := p.listener()
		if ln == nil {
			if ready == nil { // closing
				return nil
			}
			select {
			case <-ready:
				continue
			case <-ctx.Done():
				return nil
			}
		}
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if !p.isCurrent(ln) {
				continue // closed by a down fault or by Close: wait for the next
			}
			backoff = nextBackoff(backoff)
			p.log.Warn().Err(err).Dur("retry_in", backoff).Msg("accept")
			if !sleepCtx(ctx, backoff) {
				return nil
			}
			continue
		}
		backoff = 0
		seq++
		p.admit(ctx, ln, nc.(*net.TCPConn), seq)
	}
}

// listener returns the current listener, or nil and a channel closed when a
// listener is installed again (a nil channel when the proxy is closing).
func (p *Proxy) listener() (net.Listener, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing {
		return nil, nil
	}
	return p.ln, p.lnReady
}

// isCurrent reports whether ln is still the proxy's listener.
func (p *Proxy) isCurrent(ln net.Listener) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ln == ln
}

// admit registers a freshly accepted connection and starts serving it, or
// turns it away: reset at once when a reset fault selects it, closed when the
// listener it came from was closed meanwhile.
func (p *Proxy) admit(ctx context.Context, ln net.Listener, nc *net.TCPConn, seq uint64) {
	p.ctr.accepted.Add(1)
	p.mu.Lock()
	if p.ln != ln { // closed by a down fault or by shutdown while accepting
		p.mu.Unlock()
		p.ctr.refused.Add(1)
		nc.Close()
		return
	}
	if f := p.faults.Load().resetFor(seq); f != nil {
		p.mu.Unlock()
		f.selected.Add(1)
		f.eff.connsRefused.Add(1)
		p.ctr.refused.Add(1)
		resetTCP(nc)
		return
	}
	c := newConn(p, seq, nc)
	if f := p.admitConn(c); f != nil { // over a conn-limit that refuses
		p.mu.Unlock()
		f.selected.Add(1)
		f.eff.connsRefused.Add(1)
		p.ctr.refused.Add(1)
		resetTCP(nc)
		return
	}
	if f := c.resetBy; f != nil { // reset-peer with no timeout, applied first
		c.releaseGates()
		p.mu.Unlock()
		f.eff.connsReset.Add(1)
		p.ctr.reset.Add(1)
		resetTCP(nc)
		return
	}
	p.conns[c] = struct{}{}
	set := p.faults.Load()
	for _, f := range set.stages {
		if f.applies(c) {
			f.selected.Add(1)
		}
	}
	c.watch(set.watches)
	p.wg.Add(1)
	p.mu.Unlock()
	p.ctr.active.Add(1)
	go c.serve(ctx)
}

// forget removes a finished connection from the registry.
func (p *Proxy) forget(c *conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.forgetConn(c)
	p.mu.Unlock()
	p.ctr.active.Add(-1)
}

// goDown closes the listener for the first active down fault. The caller
// holds p.mu.
func (p *Proxy) goDown() {
	p.downs++
	if p.downs > 1 || p.ln == nil {
		return
	}
	if err := p.ln.Close(); err != nil {
		p.log.Warn().Err(err).Msg("down: close listener")
	}
	p.ln = nil
	p.lnReady = make(chan struct{})
}

// comeUp listens again on the proxy's address once no down fault is active.
// Called again after a failure, it retries. The caller holds p.mu.
func (p *Proxy) comeUp() error {
	if p.downs > 0 || p.ln != nil || p.closing {
		return nil
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return fmt.Errorf("listen again on %s: %w", p.addr, err)
	}
	p.ln = ln
	close(p.lnReady)
	return nil
}

// nextBackoff doubles the wait after an accept error, from 5 ms up to 1 s.
func nextBackoff(d time.Duration) time.Duration {
	if d == 0 {
		return 5 * time.Millisecond
	}
	return min(2*d, time.Second)
}

// sleepCtx waits for d or until ctx is done, and reports whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
