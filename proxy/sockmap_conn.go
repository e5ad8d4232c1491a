package proxy

import (
	"net"
	"sync"

	"github.com/rs/zerolog"
)

// sockmapOff says once per process why proxies copy in user space.
var sockmapOff sync.Once

// openSockmap gives the proxy its sockmap, or nil when it is turned off or
// the kernel does not allow it (logged once per process, with the reason).
func openSockmap(cfg Config, log zerolog.Logger) *sockmap {
	if cfg.NoSockmap {
		return nil
	}
	sm, err := newSockmap(sockmapPairs)
	if err != nil {
		sockmapOff.Do(func() {
			log.Info().Err(err).Msg("fast path: copy (the kernel's sockmap is not available here: connections are copied in user space)")
		})
		return nil
	}
	return sm
}

// useSockmap puts the connection's sockets in the proxy's sockmap, so that
// its links run on the kernel path while no fault applies to them. A
// connection that cannot join (the maps are full, the peer already closed)
// stays on the copy path.
func (c *conn) useSockmap() {
	sm := c.p.sm
	if sm == nil {
		return
	}
	var offs [2]uint64
	for dir, l := range c.links {
		off, _, err := sentBytes(l.dst)
		if err != nil {
			return
		}
		offs[dir] = off
	}
	pr, ok, err := addConn(sm, c.client, c.up)
	switch {
	case err != nil:
		c.p.log.Debug().Err(err).Uint64("conn", c.seq).Msg("sockmap: the connection stays on the copy path")
		return
	case !ok:
		sm.full.Do(func() {
			c.p.log.Warn().Int("connections", sockmapPairs).Msg("sockmap full: further connections are copied in user space")
		})
		return
	}
	c.mu.Lock() // conn.notify reads l.k under c.mu
	defer c.mu.Unlock()
	for dir, l := range c.links {
		l.k = &kernLink{sm: sm, pair: pr, slot: pr.slot(dir), offset: offs[dir]}
		sm.owners[l.k.slot].Store(l)
	}
}

// addConn adds the two sockets while their descriptors are held.
func addConn(sm *sockmap, client, up *net.TCPConn) (pr pair, ok bool, err error) {
	rc, err := client.SyscallConn()
	if err != nil {
		return pair{}, true, err
	}
	ru, err := up.SyscallConn()
	if err != nil {
		return pair{}, true, err
	}
	cerr := rc.Control(func(cfd uintptr) {
		if uerr := ru.Control(func(ufd uintptr) {
			pr, ok, err = sm.add(int(cfd), int(ufd))
		}); uerr != nil {
			err = uerr
		}
	})
	if cerr != nil {
		return pair{}, true, cerr
	}
	return pr, ok, err
}

// releaseSockmap settles the counts of links that ended on the kernel path
// and frees the connection's slots. serve calls it after both links ended
// and the sockets were closed.
func (c *conn) releaseSockmap() {
	l0 := c.links[0]
	if l0 == nil || l0.k == nil {
		return
	}
	for _, l := range c.links {
		if l.k.inKernel {
			l.stopKernel(false)
			l.k.inKernel = false
			l.k.sm.inKern.Add(-1)
		}
	}
	l0.k.sm.remove(l0.k.pair)
}
