package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Shopify/toxiproxy/v2/stream"
)

// conn is one proxied connection: the accepted client socket, the upstream
// socket once dialled, and the two links between them.
type conn struct {
	p      *Proxy
	seq    uint64 // accept sequence number, 1-based: the toxicity draws' input
	client *net.TCPConn
	dead   chan struct{} // closed when the connection is closed

	// Set by admit before serve starts: conn-limit gates to wait for, and
	// the connect delay (ended early when delayGone closes).
	queued    []*gate
	delay     time.Duration
	delayGone <-chan struct{}
	// resetBy is a reset-peer fault with no timeout that selected the
	// connection as it was admitted: it is reset before a byte passes.
	resetBy *fault
	gates   []*gate // conn-limit slots held; guarded by p.mu

	// Set by admit: the watches on when it was accepted (watch.go) and the
	// sniffer of its server's first bytes (the downstream link's).
	watches []*fault
	sniff   *sniffer
	noSlot  atomic.Bool // the server refused it for lack of slots

	mu         sync.Mutex
	up         *net.TCPConn
	links      [2]*link // by stream.Direction, set once dialled
	closed     bool
	cancelDial context.CancelFunc
	linger     *time.Timer // closeSoon's
}

func newConn(p *Proxy, seq uint64, client *net.TCPConn) *conn {
	return &conn{p: p, seq: seq, client: client, dead: make(chan struct{})}
}

var errConnClosed = errors.New("connection closed before the upstream answered")

// serve dials the upstream and runs both links until they end. The caller
// did p.wg.Add(1) for it.
func (c *conn) serve(ctx context.Context) {
	defer c.p.wg.Done()
	defer c.p.forget(c)
	defer c.releaseSockmap() // after the close below
	defer c.close(false)
	if c.awaitAdmission(ctx) != nil {
		return
	}
	c.admitWatched(ctx)
	up, err := c.dial(ctx)
	if err != nil {
		if !errors.Is(err, errConnClosed) && ctx.Err() == nil {
			c.p.ctr.dialFailed.Add(1)
			c.p.log.Warn().Err(err).Uint64("conn", c.seq).Msg("closing client")
		}
		return
	}
	if !c.attach(up) {
		return
	}
	c.markUpstream()
	// a watched connection stays on the copy path: its server's first bytes
	// are read; so does a counted one: its client's bytes are
	if c.sniff == nil && c.links[stream.Upstream].count == nil {
		c.useSockmap()
	}
	var down sync.WaitGroup
	down.Go(c.links[stream.Downstream].run)
	c.links[stream.Upstream].run()
	down.Wait()
}

// dial connects to the upstream within the dial timeout. Closing the
// connection cancels the dial.
func (c *conn) dial(ctx context.Context) (*net.TCPConn, error) {
	addr := c.p.Upstream()
	if addr == "" {
		return nil, fmt.Errorf("proxy %q: no upstream set", c.p.cfg.Name)
	}
	ctx, cancel := context.WithTimeout(ctx, c.p.cfg.DialTimeout)
	defer cancel()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, errConnClosed
	}
	c.cancelDial = cancel
	c.mu.Unlock()
	nc, err := c.p.cfg.Dial(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("proxy %q: dial upstream %s: %w", c.p.cfg.Name, addr, err)
	}
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		nc.Close()
		return nil, fmt.Errorf("proxy %q: dial upstream %s: Config.Dial returned a %T, not a *net.TCPConn", c.p.cfg.Name, addr, nc)
	}
	return tc, nil
}

// attach installs the upstream socket and the links, unless the connection
// was closed meanwhile.
func (c *conn) attach(up *net.TCPConn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		up.Close()
		return false
	}
	c.up = up
	c.links[stream.Upstream] = newLink(c, stream.Upstream, c.client, up)
	c.links[stream.Downstream] = newLink(c, stream.Downstream, up, c.client)
	c.links[stream.Downstream].sniff = c.sniff
	c.links[stream.Upstream].count = newReqCounter(c.p.cfg.CountRequests, c.p.cfg.CheckPath)
	return true
}

// notify tells the link of direction dir that the fault set changed.
//
// The kernel-path check runs under c.mu: useSockmap sets the links' kernel
// state under it while the control plane may be notifying.
func (c *conn) notify(dir int) {
	c.mu.Lock()
	l := c.links[dir]
	if l != nil {
		l.notifyKernel()
	}
	c.mu.Unlock()
	if l != nil {
		l.wakeUp()
	}
}

// close closes both sockets, with a TCP RST to both peers when reset is
// true, and marks the connection dead. It never blocks on traffic and is
// idempotent.
func (c *conn) close(reset bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.closed = true
	c.closedWatched()
	if c.cancelDial != nil {
		c.cancelDial()
	}
	if c.linger != nil {
		c.linger.Stop()
	}
	if reset {
		c.client.SetLinger(0)
		if c.up != nil {
			c.up.SetLinger(0)
		}
	}
	c.client.Close()
	if c.up != nil {
		c.up.Close()
	}
	close(c.dead)
}

// closeGrace is how long closeSoon lets the other direction finish.
const closeGrace = time.Second

// closeSoon closes the connection once the other direction has finished,
// or after closeGrace. A link calls it when writing to its destination
// failed (that peer is gone: EPIPE, ECONNRESET): the other direction may
// still carry what the peer said before it went, such as an error reply
// before a close (Redis's "ERR max number of clients reached" while the
// client's first command is on its way), and closing at once would discard
// it. serve closes the connection when both links have ended.
func (c *conn) closeSoon() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.linger != nil {
		return
	}
	c.linger = time.AfterFunc(closeGrace, func() { c.close(false) })
}

// resetTCP closes a socket with a TCP RST instead of a FIN.
func resetTCP(nc *net.TCPConn) {
	nc.SetLinger(0)
	nc.Close()
}
