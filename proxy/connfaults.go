package proxy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chaosload/chaosload/faults"
)

// Connection-level faults: they act on whole connections rather than on a
// link's bytes. conn-limit and connect-delay act where a connection is
// admitted (the accept path), reset-peer arms a timer per connection, kernel
// loss marks the connection's upstream socket for the kernel to drop its
// packets.

// prepare does what applying f needs before the proxy's lock is taken:
// installing the nftables table of kernel loss (it runs nft).
func (p *Proxy) prepare(ctx context.Context, f *fault) error {
	s, ok := f.spec.(faults.LossSpec)
	if !ok || s.Mode != faults.Kernel {
		return nil
	}
	sweepStaleTablesOnce(p.log)
	t, err := newNFTTable(ctx, s.Rate)
	if err != nil {
		return err
	}
	f.nft = t
	return nil
}

// unprepare undoes prepare after f could not be applied.
func (p *Proxy) unprepare(f *fault) {
	if err := p.unprepareCtx(context.Background(), f); err != nil {
		p.log.Error().Err(err).Str("fault", f.name).Msg("remove kernel loss table")
	}
}

// unprepareCtx removes what prepare installed; idempotent.
func (p *Proxy) unprepareCtx(ctx context.Context, f *fault) error {
	if f.nft == nil {
		return nil
	}
	if ctx.Err() != nil { // a revert past its deadline must still clean up
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
	}
	if err := f.nft.remove(ctx); err != nil {
		return fmt.Errorf("proxy %q: revert fault %q: %w", p.cfg.Name, f.name, err)
	}
	return nil
}

// applyKernelLoss marks the upstream sockets of the selected connections
// and publishes f so that new ones are marked when dialled. The caller
// holds p.mu.
func (p *Proxy) applyKernelLoss(f *fault) {
	p.faults.Store(p.faults.Load().with(f))
	for c := range p.conns {
		if f.selects(c.seq) {
			f.selected.Add(1)
			c.mark(f.nft.mark)
		}
	}
}

// applyConnLimit counts the selected open connections against the cap and
// publishes f for new ones. The caller holds p.mu.
func (p *Proxy) applyConnLimit(f *fault) {
	for c := range p.conns {
		if f.selects(c.seq) {
			f.selected.Add(1)
			f.gate.take()
			c.gates = append(c.gates, f.gate)
		}
	}
	p.faults.Store(p.faults.Load().with(f))
}

// applyResetPeer arms the reset of every selected open connection and
// publishes f for new ones. The caller holds p.mu.
func (p *Proxy) applyResetPeer(f *fault) {
	for c := range p.conns {
		if f.selects(c.seq) {
			f.selected.Add(1)
			p.armResetPeer(f, c)
		}
	}
	p.faults.Store(p.faults.Load().with(f))
}

// armResetPeer resets c Timeout from now. The caller holds p.mu.
func (p *Proxy) armResetPeer(f *fault, c *conn) {
	d := f.spec.(faults.ResetPeerSpec).Timeout
	f.timers[c] = time.AfterFunc(d, func() {
		p.mu.Lock()
		_, armed := f.timers[c]
		delete(f.timers, c)
		p.mu.Unlock()
		if !armed { // reverted, or the connection ended, meanwhile
			return
		}
		f.eff.connsReset.Add(1)
		p.ctr.reset.Add(1)
		c.close(true)
	})
}

// revertResetPeer disarms every pending reset. The caller holds p.mu.
func (p *Proxy) revertResetPeer(f *fault) {
	for c, t := range f.timers {
		t.Stop()
		delete(f.timers, c)
	}
}

// admitConn applies the connection-level faults to a connection being
// admitted, and returns the conn-limit fault that refuses it, if any. The
// caller holds p.mu.
func (p *Proxy) admitConn(c *conn) *fault {
	set := p.faults.Load()
	for _, f := range set.conns {
		s, ok := f.spec.(faults.ConnLimitSpec)
		if !ok || !f.selects(c.seq) {
			continue
		}
		switch {
		case f.gate.tryAcquire():
			f.selected.Add(1)
			c.gates = append(c.gates, f.gate)
		case s.OnExcess == faults.Queue:
			f.selected.Add(1)
			f.eff.connsQueued.Add(1)
			c.queued = append(c.queued, f.gate)
		default:
			c.releaseGates()
			return f
		}
	}
	for _, f := range set.conns {
		if !f.selects(c.seq) {
			continue
		}
		switch s := f.spec.(type) {
		case faults.ConnectDelaySpec:
			f.selected.Add(1)
			d := s.Delay + jitter(stageRand(f.key, c.seq, 0).Int64N, s.Jitter)
			if d > 0 {
				f.eff.connsDelayed.Add(1)
			}
			c.delay += d
			c.delayGone = f.gone
		case faults.ResetPeerSpec:
			f.selected.Add(1)
			if s.Timeout <= 0 { // at once: before serve forwards a byte
				c.resetBy = f
				continue
			}
			p.armResetPeer(f, c)
		case faults.LossSpec:
			f.selected.Add(1) // marked once dialled (conn.attach)
		}
	}
	return nil
}

// jitter draws U[-j, +j] with draw (a rand.Rand's Int64N).
func jitter(draw func(int64) int64, j time.Duration) time.Duration {
	if j <= 0 {
		return 0
	}
	return time.Duration(draw(int64(2*j)+1)) - j
}

// forgetConn releases what the connection-level faults hold for c, and the
// protocol sessions of c (a reverted fault that was finishing only c leaves
// the fault set). The caller holds p.mu.
func (p *Proxy) forgetConn(c *conn) {
	c.releaseGates()
	for _, f := range p.active {
		if t, ok := f.timers[c]; ok {
			t.Stop()
			delete(f.timers, c)
		}
	}
	for _, f := range p.faults.Load().stages {
		if f.sessions != nil && f.forgetConn(c) {
			p.faults.Store(p.faults.Load().without(f))
		}
	}
}

// releaseGates gives back the conn-limit slots c holds. The caller holds
// p.mu.
func (c *conn) releaseGates() {
	for _, g := range c.gates {
		g.release()
	}
	c.gates = nil
}

// errGaveUp is why a connection waiting at the accept path was closed.
var errGaveUp = errors.New("closed while waiting to be admitted")

// awaitAdmission waits for the conn-limit slots c queues for, then for its
// connect delay. Reverting the fault ends either wait.
func (c *conn) awaitAdmission(ctx context.Context) error {
	for _, g := range c.queued {
		if !g.acquire(ctx, c.dead) {
			return errGaveUp
		}
		c.p.mu.Lock()
		c.gates = append(c.gates, g)
		c.p.mu.Unlock()
	}
	if c.delay <= 0 {
		return nil
	}
	t := time.NewTimer(c.delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.delayGone:
	case <-c.dead:
		return errGaveUp
	case <-ctx.Done():
		return errGaveUp
	}
	return nil
}

// markUpstream marks the new upstream socket for every kernel-loss fault
// that selects c.
func (c *conn) markUpstream() {
	for _, f := range c.p.faults.Load().conns {
		if f.nft != nil && f.selects(c.seq) {
			c.mark(f.nft.mark)
		}
	}
}

// mark sets SO_MARK on c's upstream socket, once dialled.
func (c *conn) mark(m uint32) {
	c.mu.Lock()
	up := c.up
	c.mu.Unlock()
	if up == nil {
		return
	}
	if err := setMark(up, m); err != nil {
		c.p.log.Warn().Err(err).Uint64("conn", c.seq).Msg("kernel loss: mark upstream socket")
	}
}
