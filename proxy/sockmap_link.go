package proxy

import (
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/Shopify/toxiproxy/v2/stream"
	"golang.org/x/sys/unix"
)

// kernLink is a link's share of the sockmap fast path (see sockmap.go).
// Only the link goroutine touches it, and the connection's release after
// both links ended.
type kernLink struct {
	sm         *sockmap
	pair       pair          // the connection's place in the maps
	slot       uint32        // the src socket's slot, whose word this link owns
	offset     uint64        // dst's sent count (sentBytes) when it joined the map
	redirected atomic.Uint64 // bytes the kernel forwarded in the periods that ended
	inKernel   bool
	faultExits int // times a fault took the link off the kernel path
	refills    int // times the budget or stray data did
}

// kernel runs the link on the kernel path until the fault set changes, the
// source half-closes or the connection dies: it joins (user → kernel),
// waits while the kernel forwards, then leaves (kernel → user) and waits
// until the kernel path drained.
func (l *link) kernel() outcome {
	if o, joined := l.join(); !joined {
		return o
	}
	q := quiet(l.src) // see sockmap_poller.go
	if q != nil {
		l.k.sm.quiet.Add(1)
	}
	o := l.park()
	if q != nil {
		q.restore(l.src)
		l.k.sm.quiet.Add(-1)
	}
	if o == failed {
		return failed // the connection's release settles the count
	}
	if !l.leave() {
		return failed
	}
	return o
}

// join copies what the source holds until every byte that reached it has
// been read and written, then switches its word to KERNEL (see sockmap.go,
// user → kernel). It returns false with the outcome when something else
// happened first: a fault, the end of the stream, an error.
func (l *link) join() (outcome, bool) {
	k := l.k
	word := k.sm.word(k.slot)
	for {
		clearVeto(word) // before looking at the faults: a later notify vetoes again
		if l.changed(nil) {
			return reconsider, false
		}
		w := atomic.LoadUint64(word)
		got, err := bytesReceived(l.raw)
		if err != nil {
			l.c.close(false)
			return failed, false
		}
		if got == l.nread+k.redirected.Load() && w&vetoBit == 0 && atomic.CompareAndSwapUint64(word, w, modeKernel) {
			k.inKernel = true
			k.sm.inKern.Add(1)
			return reconsider, true
		}
		l.rerr, l.werr = nil, nil
		err = l.raw.Read(l.joinFn)
		switch {
		case err != nil:
			return l.readFailed(err), false
		case l.werr != nil:
			l.c.closeSoon()
			return failed, false
		case l.rerr != nil:
			return l.readFailed(l.rerr), false
		}
	}
}

// clearVeto removes the veto bit of a USER word.
func clearVeto(word *uint64) {
	for {
		w := atomic.LoadUint64(word)
		if w&vetoBit == 0 || atomic.CompareAndSwapUint64(word, w, w&^vetoBit) {
			return
		}
	}
}

// joinReady is the syscall.RawConn read callback of join: it copies what
// the source has, and asks to wait for readability only when it found
// nothing (bytes received but not yet readable are on their way to the
// socket's queue, which wakes the poller).
func (l *link) joinReady(fd uintptr) bool {
	moved := false
	for {
		n, stop := l.copyChunk(fd)
		switch {
		case stop:
			return true
		case n == 0:
			return moved
		}
		moved = true
	}
}

// errStray is what parkReady reports when the source holds data on the
// kernel path, which the program never passes on: the link leaves and
// joins again, and join copies that data in order.
var errStray = errors.New("data to read on the kernel path")

// park waits while the kernel forwards the link's bytes, until a fault wants
// the link, the source half-closes or the connection dies.
func (l *link) park() outcome {
	for {
		l.rerr = nil
		err := l.raw.Read(l.parkFn)
		if err == nil {
			err = l.rerr
		}
		switch {
		case err == errStray && l.changed(nil): // passed after notify stopped the kernel
			l.k.faultExits++
			return reconsider
		case err == errStray:
			l.k.refills++
			return reconsider
		case errors.Is(err, os.ErrDeadlineExceeded), err == errWoken:
			l.rearm()
			if l.changed(nil) {
				l.k.faultExits++
				return reconsider
			}
			if atomic.LoadUint64(l.k.sm.word(l.k.slot))&modeMask == modeFull { // woken by wakeFull
				l.k.refills++
				return reconsider
			}
		case err == io.EOF:
			l.stopKernel(false) // settle this period's count: sockmapEOF compares it
			return l.sockmapEOF()
		default:
			return l.readFailed(err)
		}
	}
}

// parkReady is the read callback of park: it peeks, so that it consumes
// nothing, and asks to wait again while there is nothing to see.
func (l *link) parkReady(fd uintptr) bool {
	if len(l.wake) > 0 {
		l.rerr = errWoken
		return true
	}
	var b [1]byte
	for {
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return false
		case err != nil:
			l.rerr = os.NewSyscallError("recvfrom", err)
		case n == 0:
			l.rerr = io.EOF
		default:
			l.rerr = errStray
		}
		return true
	}
}

// sockmapEOF confirms the end of the stream a read reported. A socket in
// the map reads as ended once its FIN arrived and its ingress queue is
// empty, even while segments the program passed to it wait in its psock's
// backlog behind segments redirected to it. The stream has ended only when
// every byte received (tcpi_bytes_received, which counts the FIN as one)
// was read or forwarded; until then the link waits 100 µs and reads on,
// and the backlog's delivery makes those bytes readable.
func (l *link) sockmapEOF() outcome {
	got, err := bytesReceived(l.raw)
	if err != nil {
		l.c.close(false)
		return failed
	}
	if got <= l.nread+l.k.redirected.Load()+1 {
		return srcEOF
	}
	t := time.NewTimer(100 * time.Microsecond)
	defer t.Stop()
	select {
	case <-t.C:
		return reconsider
	case <-l.c.dead:
		return failed
	}
}

// leave switches the link's word to USER (unless notify did), settles what
// the kernel forwarded, and waits until the destination has accepted every
// byte of it: only then may the proxy write to it (see sockmap.go, kernel
// → user).
func (l *link) leave() bool {
	l.stopKernel(false)
	l.k.inKernel = false
	l.k.sm.inKern.Add(-1)
	return l.awaitDrained()
}

// stopKernel ends the link's kernel period, if one is running, and counts
// what the kernel forwarded in it; with veto it also makes a join in
// progress look at the faults again. notify calls it from the control
// plane, so that no segment the kernel handles after Inject returned
// bypasses the fault; the link goroutine calls it when it leaves.
func (l *link) stopKernel(veto bool) {
	k := l.k
	k.redirected.Add(k.sm.stop(k.slot, &l.c.p.ctr.bytes[l.dir], veto))
}

// notifyKernel is notify's part for a link in the sockmap: when the fault
// set now gives the link a stage, the kernel stops forwarding its bytes at
// once.
func (l *link) notifyKernel() {
	if l.k != nil && l.c.p.faults.Load().wants(l.dir, l.c) {
		l.stopKernel(true)
	}
}

// wants reports whether a stage applies to the link of direction dir on
// connection c.
func (s *faultSet) wants(dir stream.Direction, c *conn) bool {
	for _, f := range s.stages {
		if f.dirs[dir] && f.applies(c) {
			return true
		}
	}
	return false
}

// awaitDrained waits until dst has taken everything written to it, by the
// proxy and by the kernel, polling from 20 µs up to every 5 ms. It returns
// false when the connection died first.
func (l *link) awaitDrained() bool {
	want := l.written.Load() + l.k.redirected.Load()
	wait := 20 * time.Microsecond
	var timer *time.Timer
	for {
		sent, closed, err := sentBytes(l.dst)
		switch {
		case err != nil:
			l.c.close(false)
			return false
		case sent-l.k.offset >= want:
			return true
		case closed: // the peer reset it: what the kernel held for it is gone
			l.c.closeSoon()
			return false
		}
		if timer == nil {
			timer = time.NewTimer(wait)
			defer timer.Stop()
		} else {
			timer.Reset(wait)
		}
		select {
		case <-timer.C:
		case <-l.c.dead:
			return false
		}
		wait = min(2*wait, 5*time.Millisecond)
	}
}

// tcpClose is TCP_CLOSE, the state tcpi_state reports for a reset socket.
const tcpClose = 7

// bytesReceived is the socket's tcpi_bytes_received: every byte that
// arrived in order, whoever took it off the socket.
func bytesReceived(raw syscall.RawConn) (uint64, error) {
	var n uint64
	var serr error
	err := raw.Control(func(fd uintptr) {
		ti, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
		if err != nil {
			serr = os.NewSyscallError("getsockopt TCP_INFO", err)
			return
		}
		n = ti.Bytes_received
	})
	if err != nil {
		return 0, err
	}
	return n, serr
}

// sentBytes counts what a socket has accepted to send: bytes acknowledged
// (tcpi_bytes_acked, read first) plus bytes queued (SIOCOUTQ). Reading them
// in this order never counts more than the socket's write_seq, so a wait
// for a count never ends early. The count includes the SYN on an actively
// opened socket: callers compare differences. closed is true once the
// socket is in state CLOSE (reset by its peer).
func sentBytes(tc *net.TCPConn) (n uint64, closed bool, err error) {
	raw, err := tc.SyscallConn()
	if err != nil {
		return 0, false, err
	}
	var serr error
	err = raw.Control(func(fd uintptr) {
		ti, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
		if err != nil {
			serr = os.NewSyscallError("getsockopt TCP_INFO", err)
			return
		}
		q, err := unix.IoctlGetInt(int(fd), unix.SIOCOUTQ)
		if err != nil {
			serr = os.NewSyscallError("ioctl SIOCOUTQ", err)
			return
		}
		n, closed = ti.Bytes_acked+uint64(q), ti.State == tcpClose
	})
	if err != nil {
		return 0, false, err
	}
	return n, closed, serr
}
