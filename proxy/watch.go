package proxy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chaosload/chaosload/faults"
)

// A watch lets a fault that acts on the server directly (pool exhaustion)
// follow the connections the proxy carries to that server:
//
//	accept ─▶ Admit (≤ admitBound) ─▶ dial ─▶ first server bytes ─▶ Answer: refused / admitted
//	close (any cause, the server may still hold its slot) ─▶ Closed(upstream local address)
//
// The proxy counts what it saw under the watch's name (FaultStats:
// Admissions, ServerRefused, ServerAdmitted).

// admitBound bounds how long a new connection waits for a watcher.
const admitBound = time.Second

// sniffMax bounds the server bytes kept for a watcher's Answer.
const sniffMax = 16 << 10

// Watch implements faults.Injector: w follows the proxy's connections until
// the returned Revert is called. Connections accepted while it is on wait
// for w.Admit (at most a second) before the proxy dials, and the first
// bytes the server sends them are shown to w.Answer; every connection that
// may hold a server slot is reported to w.Closed when it ends. name and
// spec name the watch in Stats.
func (p *Proxy) Watch(name string, spec faults.Spec, w faults.ConnWatch) (faults.Revert, error) {
	if name == "" || w == nil || spec == nil {
		return nil, fmt.Errorf("proxy %q: watch: a name, a spec and a watcher are needed", p.cfg.Name)
	}
	f := newFault(p.cfg.Seed, name, spec, 1)
	f.watch = w
	p.mu.Lock()
	defer p.mu.Unlock()
	switch _, dup := p.active[name]; {
	case p.closing:
		return nil, fmt.Errorf("proxy %q: watch %q: %w", p.cfg.Name, name, errors.New("the proxy is closed"))
	case dup:
		return nil, fmt.Errorf("proxy %q: watch %q: a fault of that name is already active", p.cfg.Name, name)
	}
	p.active[name], p.records[name] = f, f
	p.faults.Store(p.faults.Load().with(f))
	return func(context.Context) error {
		p.mu.Lock()
		defer p.mu.Unlock()
		if f.reverted.IsZero() {
			f.reverted = time.Now()
			close(f.gone)
			if p.active[name] == f {
				delete(p.active, name)
			}
			p.faults.Store(p.faults.Load().without(f))
		}
		return nil
	}, nil
}

// watch makes c known to the watches on now: it will wait for them before
// dialling, and its server's first bytes are shown to them. The caller holds
// p.mu.
func (c *conn) watch(watches []*fault) {
	if len(watches) == 0 {
		return
	}
	c.watches = watches
	c.sniff = &sniffer{c: c, open: len(watches)}
}

// admitWatched waits for every watch of c, each at most admitBound (a
// client that leaves meanwhile is noticed when the dial finds the
// connection closed).
func (c *conn) admitWatched(ctx context.Context) {
	for _, f := range c.watches {
		f.eff.admissions.Add(1)
		wctx, cancel := context.WithTimeout(ctx, admitBound)
		f.watch.Admit(wctx)
		cancel()
	}
}

// closedWatched tells the watches on now that c ended, unless the server
// refused it (it never held a slot) or it never reached the server. The
// caller holds c.mu.
func (c *conn) closedWatched() {
	if c.up == nil || c.noSlot.Load() {
		return
	}
	watches := c.p.faults.Load().watches
	if len(watches) == 0 {
		return
	}
	addr := c.up.LocalAddr().String()
	for _, f := range watches {
		f.watch.Closed(addr)
	}
}

// sniffer shows the first bytes the server sends on a watched connection to
// each watch until every one has decided. Only the downstream link's
// goroutine uses it.
type sniffer struct {
	c       *conn
	buf     []byte
	decided []bool
	open    int // watches still undecided
}

// see adds b to what the server sent and asks the undecided watches. It
// returns false once nothing more is needed.
func (s *sniffer) see(b []byte) bool {
	if s.decided == nil {
		s.decided = make([]bool, len(s.c.watches))
	}
	s.buf = append(s.buf, b[:min(len(b), sniffMax-len(s.buf))]...)
	for i, f := range s.c.watches {
		if s.decided[i] {
			continue
		}
		switch f.watch.Answer(s.buf) {
		case faults.Undecided:
			if len(s.buf) < sniffMax {
				continue
			}
		case faults.NoSlot:
			f.eff.serverRefused.Add(1)
			s.c.noSlot.Store(true)
		case faults.Admitted:
			if !f.isGone() { // once the hold lets go, admissions are the fault's end
				f.eff.serverAdmitted.Add(1)
			}
		}
		s.decided[i] = true
		s.open--
	}
	return s.open > 0
}
