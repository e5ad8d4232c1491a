package proxy

import (
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/Shopify/toxiproxy/v2/stream"
)

// bufSize is the size of the pooled copy buffers. A link holds one only
// between a read that returned data and the write of that data.
const bufSize = 32 << 10

var bufPool = sync.Pool{New: func() any { b := make([]byte, bufSize); return &b }}

// aLongTimeAgo is a read deadline in the past: it ends a pending wait for
// data at once, without consuming any byte.
var aLongTimeAgo = time.Unix(1, 0)

// link copies one direction of a connection: src is read, dst is written.
// Its goroutine (run) owns everything below except wake, which notify
// writes from any goroutine.
//
// The link runs on the fast path while no fault applies to it and on a
// pipeline of stages otherwise; see the package documentation.
type link struct {
	c        *conn
	dir      stream.Direction
	src, dst *net.TCPConn
	raw      syscall.RawConn
	wake     chan struct{} // capacity 1: a sticky "the fault set changed"

	want    []*fault              // scratch: the stages wanted now
	pending *stream.StreamChunk   // read, not yet handed to the pipeline
	rngs    map[*fault]*rand.Rand // per-stage generators, kept across rebuilds
	states  map[*fault]*linkState // per-stage state, kept across rebuilds
	readFn  func(fd uintptr) bool // l.onReadable,
	copyFn  func(fd uintptr) bool // l.copyReady,
	joinFn  func(fd uintptr) bool // l.joinReady and
	parkFn  func(fd uintptr) bool // l.parkReady, bound once (no allocation per call)
	rbuf    *[]byte               // result of the last read: pooled buffer,
	rn      int                   // byte count
	rerr    error                 // and error
	werr    error                 // fast path: the write error
	bulk    bool                  // fast path: the last read filled the buffer

	k       *kernLink     // the sockmap fast path, nil on the copy path
	nread   uint64        // bytes read from src by the link goroutine
	written atomic.Uint64 // bytes the proxy wrote to dst
	sniff   *sniffer      // shown what is read until it has seen enough (watch.go)
	count   reqCounter    // upstream, Config.CountRequests: counts requests (reqcount.go)
}

func newLink(c *conn, dir stream.Direction, src, dst *net.TCPConn) *link {
	l := &link{c: c, dir: dir, src: src, dst: dst, wake: make(chan struct{}, 1)}
	l.raw, _ = src.SyscallConn() // fails only on a closed conn; reads then fail too
	l.readFn, l.copyFn, l.joinFn, l.parkFn = l.onReadable, l.copyReady, l.joinReady, l.parkReady
	if onLoopback(src) {
		l.raw.Control(useReno)
	}
	return l
}

// onLoopback reports whether both ends of nc are loopback addresses.
func onLoopback(nc *net.TCPConn) bool {
	la, lok := nc.LocalAddr().(*net.TCPAddr)
	ra, rok := nc.RemoteAddr().(*net.TCPAddr)
	return lok && rok && la.IP.IsLoopback() && ra.IP.IsLoopback()
}

// useReno makes a socket's sender use Reno congestion control. On loopback
// there is no loss and no queue to model, so the congestion control only
// costs CPU; the usual default here, BBR, also paces every send with a
// timer when the qdisc does not (pfifo_fast). Measured (bench/proxy.sh): the
// proxy's CPU per MiB carried in bulk fell by about a quarter (521 → 374
// process µs/MiB), with no measurable change on small requests. Reno is
// always allowed (tcp_allowed_congestion_control); a failure leaves the
// default in place.
func useReno(fd uintptr) {
	_ = syscall.SetsockoptString(int(fd), syscall.IPPROTO_TCP, syscall.TCP_CONGESTION, "reno")
}

// useDefaultCC gives a socket back the system's default congestion control.
// A kernel-loss fault calls it on the sockets it marks: on a leg that loses
// packets the congestion control decides what the loss does to throughput,
// and a client talking to the server directly would use the default.
func useDefaultCC(fd uintptr) {
	if cc := defaultCC(); cc != "" {
		_ = syscall.SetsockoptString(int(fd), syscall.IPPROTO_TCP, syscall.TCP_CONGESTION, cc)
	}
}

// defaultCC is net.ipv4.tcp_congestion_control, read once ("" if unreadable).
var defaultCC = sync.OnceValue(func() string {
	b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_congestion_control")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
})

// outcome is how one mode of a link ended.
type outcome int

const (
	reconsider outcome = iota // the fault set changed: choose the mode again
	srcEOF                    // the source half-closed; every byte was written
	failed                    // the connection is closed or broken
)

// run copies until the source half-closes or the connection dies.
func (l *link) run() {
	var running []*fault
	for {
		l.want = l.c.p.faults.Load().stagesFor(l.want[:0], l.dir, l.c)
		if !slices.Equal(l.want, running) {
			l.c.p.ctr.switches.Add(1)
			running = slices.Clone(l.want)
		}
		var o outcome
		switch {
		case len(running) == 0 && l.k != nil:
			o = l.kernel()
		case len(running) == 0:
			o = l.fast()
		default:
			o = l.piped(running)
		}
		switch o {
		case srcEOF:
			if err := l.dst.CloseWrite(); err != nil {
				l.c.close(false)
			}
			return
		case failed:
			return
		}
	}
}

// fast copies directly from src to dst until the fault set changes. The
// copying happens inside one syscall.RawConn.Read call (see copyReady), left
// only to splice, on an error, at EOF or when notify sets the deadline.
func (l *link) fast() outcome {
	for {
		l.rerr, l.werr, l.bulk = nil, nil, false
		err := l.raw.Read(l.copyFn)
		switch {
		case err != nil:
			return l.readFailed(err)
		case l.werr != nil:
			l.c.closeSoon()
			return failed
		case l.rerr != nil:
			return l.readFailed(l.rerr)
		case l.bulk && l.count == nil: // a counted stream is read, never spliced
			if err := l.splice(); err != nil {
				return l.readFailed(err)
			}
		}
	}
}

// copyReady is the syscall.RawConn read callback of the fast path: it
// copies what src has to dst through a pooled buffer until a read says
// EAGAIN, then returns false to have the runtime wait until src is readable
// again. It returns true to leave RawConn.Read: when notify has left a wake
// token (errWoken), on a read or write error, at EOF, or after a read that
// filled the whole buffer (a bulk transfer, which splice then carries on).
//
// It reads until EAGAIN rather than trusting a short read to have emptied the
// socket: going back to wait after a short read lost wake-ups under load
// (a FIN or RST that arrived with the data shares its one edge-triggered
// readiness event, and nothing wakes the link again to read it). The extra
// read costs less than the noise of the pass-through benchmark (median CPU
// per request within ±0.5 µs of 11.5 µs with and without it, bench/proxy.sh).
// The wake token is checked before each read because the runtime may turn
// the wake-up of an expired deadline into "readable" when data arrives at the
// same moment; without the check that data would pass the fast path after
// Inject returned.
func (l *link) copyReady(fd uintptr) bool {
	for {
		n, stop := l.copyChunk(fd)
		switch {
		case stop:
			return true
		case n == 0:
			return false
		case n == bufSize:
			l.bulk = true
			return true
		}
	}
}

// copyChunk copies one read's worth from src to dst through a pooled
// buffer. It returns 0 when src has nothing to read (EAGAIN), and stop true
// when the caller must leave RawConn.Read: woken, or an error in l.rerr or
// l.werr.
func (l *link) copyChunk(fd uintptr) (n int, stop bool) {
	if len(l.wake) > 0 {
		l.rerr = errWoken
		return 0, true
	}
	b := bufPool.Get().(*[]byte)
	defer bufPool.Put(b)
	n, err := readFD(fd, *b)
	switch {
	case err == syscall.EAGAIN:
		return 0, false
	case err != nil:
		l.rerr = err
		return 0, true
	}
	l.nread += uint64(n)
	l.sniffed((*b)[:n])
	l.counted((*b)[:n])
	_, err = l.dst.Write((*b)[:n])
	if err != nil {
		l.werr = err
		return n, true
	}
	l.wrote(n)
	return n, false
}

// sniffed shows b to the link's sniffer, if it still wants to see bytes.
func (l *link) sniffed(b []byte) {
	if l.sniff != nil && !l.sniff.see(b) {
		l.sniff = nil
	}
}

// wrote counts n bytes the proxy wrote to dst.
func (l *link) wrote(n int) {
	l.written.Add(uint64(n))
	l.c.p.ctr.bytes[l.dir].Add(uint64(n))
}

// errWoken is how a read callback reports that notify woke the link.
var errWoken = errors.New("woken by a fault change")

// readFD reads from a non-blocking socket: EAGAIN when there is nothing to
// read, io.EOF at end of stream, other errors as *os.SyscallError.
func readFD(fd uintptr, b []byte) (int, error) {
	for {
		n, err := syscall.Read(int(fd), b)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return 0, err
		case err != nil:
			return 0, os.NewSyscallError("read", err)
		case n == 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

// spliceMax bounds one splice call: bytes are counted when it returns, and
// the pipe it borrows is given back.
const spliceMax = 1 << 20

// splice moves up to spliceMax bytes from src to dst inside the kernel
// (splice(2) through a pipe from the runtime's pool), as
// (*net.TCPConn).ReadFrom does on Linux. A read deadline set by notify ends
// it like a read, and the bytes already moved are counted. It returns io.EOF
// when src half-closed.
func (l *link) splice() error {
	lr := io.LimitedReader{R: l.src, N: spliceMax}
	n, err := l.dst.ReadFrom(&lr)
	l.nread += uint64(n)
	l.wrote(int(n))
	switch {
	case err != nil:
		return err
	case lr.N > 0: // ReadFrom stops early without an error only at EOF
		return io.EOF
	}
	return nil
}

// read waits until src is readable, holding no buffer while it waits, then
// reads into a pooled buffer (l.rbuf, returned to the pool by the caller when
// n > 0). It returns os.ErrDeadlineExceeded when notify woke it.
func (l *link) read() (int, error) {
	l.rn, l.rerr = 0, nil
	if err := l.raw.Read(l.readFn); err != nil {
		return 0, err
	}
	return l.rn, l.rerr
}

// onReadable is the syscall.RawConn callback of read: false means "not
// readable yet, wait", and the buffer goes back to the pool meanwhile.
func (l *link) onReadable(fd uintptr) bool {
	if len(l.wake) > 0 { // see copyReady
		l.rerr = errWoken
		return true
	}
	b := bufPool.Get().(*[]byte)
	n, err := readFD(fd, *b)
	switch {
	case err == syscall.EAGAIN:
		bufPool.Put(b)
		return false
	case err != nil:
		bufPool.Put(b)
		l.rerr = err
		return true
	}
	l.rbuf, l.rn = b, n
	l.nread += uint64(n)
	return true
}

// readFailed maps a read error to the link's outcome. A reset from one peer
// is passed on as a reset to the other.
func (l *link) readFailed(err error) outcome {
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded), err == errWoken:
		l.rearm()
		return reconsider
	case err == io.EOF && l.k != nil:
		return l.sockmapEOF()
	case err == io.EOF:
		return srcEOF
	}
	l.c.close(errors.Is(err, syscall.ECONNRESET))
	return failed
}

// wakeUp wakes the link so that it compares its stages with the fault set
// (conn.notify first stops its kernel path if a stage now applies). It
// never blocks: it sets a read deadline in the past on src (ending a wait
// for data) and leaves a token on wake (ending a wait to hand on a chunk).
func (l *link) wakeUp() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
	l.src.SetReadDeadline(aLongTimeAgo)
}

// rearm clears both wake signals. The link then loads the fault set: a
// notify that lands after this is seen on the next wait, one that landed
// before published its set before, so nothing is missed.
func (l *link) rearm() {
	l.src.SetReadDeadline(time.Time{})
	select {
	case <-l.wake:
	default:
	}
}

// changed reports whether the stages wanted now differ from running.
func (l *link) changed(running []*fault) bool {
	l.want = l.c.p.faults.Load().stagesFor(l.want[:0], l.dir, l.c)
	return !slices.Equal(l.want, running)
}

// rand returns the link's generator for stage f, creating it on first use.
func (l *link) rand(f *fault) *rand.Rand {
	if l.rngs == nil {
		l.rngs = map[*fault]*rand.Rand{}
	}
	r, ok := l.rngs[f]
	if !ok {
		r = stageRand(f.key, l.c.seq, l.dir)
		l.rngs[f] = r
	}
	return r
}

// keepRand forgets the generators of stages no longer wanted.
func (l *link) keepRand(stages []*fault) {
	for f := range l.rngs {
		if !slices.Contains(stages, f) {
			delete(l.rngs, f)
		}
	}
}
