package proxy

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/chaosload/chaosload/faults"
)

// TestSockmapOverlapOnce: a segment that starts before what the proxy's
// socket already received (a retransmission that also carries new bytes)
// is handed on without its old head, on the kernel path and on the user
// path, so the upstream gets every byte once. The overlap is made on
// purpose: the client's connection is taken over by a second socket in TCP
// repair mode whose send sequence starts 1,000 bytes back, as a sender
// that retransmits them with new data would.
func TestSockmapOverlapOnce(t *testing.T) {
	if err := sockmapOK(); err != nil {
		t.Skipf("the sockmap fast path is not available here: %v", err)
	}
	for _, user := range []bool{false, true} {
		name := "kernel path"
		if user {
			name = "user path"
		}
		t.Run(name, func(t *testing.T) { overlapOnce(t, user) })
	}
}

func overlapOnce(t *testing.T, user bool) {
	const first, back, more = 64 << 10, 1000, 4000
	srv := startCollector(t)
	p := startTestProxy(t, Config{Name: "overlap", Upstream: srv.addr()})
	if user {
		if _, err := p.Inject(context.Background(), "lat", faults.LatencySpec{Latency: time.Millisecond, Direction: faults.Both}, 1); err != nil {
			t.Fatal(err)
		}
	}
	stream := counterStream(first + more)
	// The client binds its own address and port, so that the socket that
	// takes its place can bind them again: a port connect(2) picks may be
	// shared with other connections, which an explicit bind refuses.
	d := net.Dialer{
		LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)},
		Control: func(_, _ string, rc syscall.RawConn) error {
			var err error
			rc.Control(func(fd uintptr) { err = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1) })
			return err
		},
	}
	cc, err := d.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	c := cc.(*net.TCPConn)
	if _, err := c.Write(stream[:first/2]); err != nil {
		t.Fatal(err)
	}
	srv.waitFor(t, first/2)
	if !user {
		waitKernelLinks(t, p, 2) // the rest goes through the kernel
	}
	if _, err := c.Write(stream[first/2 : first]); err != nil {
		t.Fatal(err)
	}
	srv.waitFor(t, first)
	if !user && p.sm.forwarded(0, atomic.LoadUint64(p.sm.word(0))) == 0 {
		t.Fatal("the kernel forwarded nothing: the link was not on the kernel path")
	}
	fd := takeOver(t, c, back)
	defer unix.Close(fd)
	for rest := stream[first-back:]; len(rest) > 0; {
		n, err := unix.Write(fd, rest)
		if err != nil {
			t.Fatalf("write after the take-over: %v", err)
		}
		rest = rest[n:]
	}
	if err := unix.Shutdown(fd, unix.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	got := srv.all(t)
	if len(got) != len(stream) {
		t.Errorf("upstream received %d bytes, want %d (%d sent, %d of them twice on the wire)", len(got), len(stream), len(stream)+back, back)
	}
	if at := firstDiff(got, stream); at >= 0 {
		t.Errorf("upstream's stream differs from what was sent at byte %d", at)
	}
	trimmed, failed := p.sm.overlaps()
	if trimmed != back || failed != 0 {
		t.Errorf("the program trimmed %d bytes (%d segments failed), want %d and 0", trimmed, failed, back)
	}
}

// takeOver puts c in TCP repair mode, reads its sequence numbers, window,
// timestamp clock and options, closes it without a FIN or reset (repair
// mode), and opens a socket in its place, on the same address, whose next
// byte to send is back bytes before c's. It returns the new socket's fd.
func takeOver(t *testing.T, c *net.TCPConn, back uint32) int {
	t.Helper()
	var (
		sndSeq, rcvSeq, ts int
		win                [20]byte // struct tcp_repair_window
		rawInfo            [32]byte // struct tcp_info's head: options, wscale, snd_mss
		info               *unix.TCPInfo
		ctlErr             error
	)
	// All of c's bytes must be acknowledged: the new socket starts with an
	// empty send queue.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		raw, _ := c.SyscallConn()
		raw.Control(func(fd uintptr) { info, ctlErr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO) })
		if ctlErr != nil {
			t.Fatal(ctlErr)
		}
		if info.Unacked == 0 && info.Notsent_bytes == 0 {
			break
		}
		if time.Now().After(deadline) { // catches a hang only
			t.Fatalf("the client's bytes were never all acknowledged (%d segments unacked)", info.Unacked)
		}
	}
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	raw.Control(func(fd uintptr) {
		s := int(fd)
		steps := []func() error{
			func() error { return unix.SetsockoptInt(s, unix.IPPROTO_TCP, unix.TCP_REPAIR, unix.TCP_REPAIR_ON) },
			func() error { return unix.SetsockoptInt(s, unix.IPPROTO_TCP, unix.TCP_REPAIR_QUEUE, tcpSendQueue) },
			func() (err error) { sndSeq, err = unix.GetsockoptInt(s, unix.IPPROTO_TCP, unix.TCP_QUEUE_SEQ); return },
			func() error { return unix.SetsockoptInt(s, unix.IPPROTO_TCP, unix.TCP_REPAIR_QUEUE, tcpRecvQueue) },
			func() (err error) { rcvSeq, err = unix.GetsockoptInt(s, unix.IPPROTO_TCP, unix.TCP_QUEUE_SEQ); return },
			func() (err error) { ts, err = unix.GetsockoptInt(s, unix.IPPROTO_TCP, unix.TCP_TIMESTAMP); return },
			func() error { return getsockoptBytes(s, unix.TCP_REPAIR_WINDOW, win[:]) },
			func() error { return getsockoptBytes(s, unix.TCP_INFO, rawInfo[:]) },
		}
		for i, step := range steps {
			if ctlErr = step(); ctlErr != nil {
				ctlErr = fmt.Errorf("repair step %d on the client socket: %w", i, ctlErr)
				return
			}
		}
	})
	if ctlErr != nil {
		t.Fatal(ctlErr)
	}
	local := c.LocalAddr().(*net.TCPAddr)
	remote := c.RemoteAddr().(*net.TCPAddr)
	c.Close() // in repair mode: no FIN, no reset; the proxy's socket sees nothing
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	options, wscale := rawInfo[5], rawInfo[6] // tcpi_options; tcpi_snd_wscale:4, tcpi_rcv_wscale:4
	opts := []unix.TCPRepairOpt{{Code: tcpoptMSS, Val: binary.NativeEndian.Uint32(rawInfo[16:])}}
	if options&tcpiOptWscale != 0 {
		opts = append(opts, unix.TCPRepairOpt{Code: tcpoptWindow, Val: uint32(wscale&0xf) | uint32(wscale>>4)<<16})
	}
	if options&tcpiOptTimestamps != 0 {
		opts = append(opts, unix.TCPRepairOpt{Code: tcpoptTimestamp})
	}
	if options&tcpiOptSack != 0 {
		opts = append(opts, unix.TCPRepairOpt{Code: tcpoptSackPerm})
	}
	steps := []func() error{
		func() error { return unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_REPAIR, unix.TCP_REPAIR_ON) },
		func() error { return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1) },
		func() error { return unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_REPAIR_QUEUE, tcpSendQueue) },
		func() error {
			return unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_QUEUE_SEQ, int(uint32(sndSeq)-back))
		},
		func() error { return unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_REPAIR_QUEUE, tcpRecvQueue) },
		func() error { return unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_QUEUE_SEQ, rcvSeq) },
		func() error {
			return unix.Bind(fd, &unix.SockaddrInet4{Port: local.Port, Addr: [4]byte(local.IP.To4())})
		},
		func() error {
			return unix.Connect(fd, &unix.SockaddrInet4{Port: remote.Port, Addr: [4]byte(remote.IP.To4())})
		},
		func() error { return unix.SetsockoptTCPRepairOpt(fd, unix.IPPROTO_TCP, unix.TCP_REPAIR_OPTIONS, opts) },
		func() error { return unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_TIMESTAMP, ts) },
		func() error { return setsockoptBytes(fd, unix.TCP_REPAIR_WINDOW, win[:]) },
		func() error { return unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_REPAIR, unix.TCP_REPAIR_OFF) },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			unix.Close(fd)
			t.Fatalf("repair step %d on the new socket: %v", i, err)
		}
	}
	return fd
}

// TCP repair queues and options (uapi/linux/tcp.h).
const (
	tcpRecvQueue      = 1
	tcpSendQueue      = 2
	tcpoptMSS         = 2
	tcpoptWindow      = 3
	tcpoptSackPerm    = 4
	tcpoptTimestamp   = 8
	tcpiOptTimestamps = 1
	tcpiOptSack       = 2
	tcpiOptWscale     = 4
)

func getsockoptBytes(fd, opt int, b []byte) error {
	l := uint32(len(b))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.IPPROTO_TCP, uintptr(opt), uintptr(unsafe.Pointer(&b[0])), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		return e
	}
	return nil
}

func setsockoptBytes(fd, opt int, b []byte) error {
	_, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(fd), unix.IPPROTO_TCP, uintptr(opt), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0)
	if e != 0 {
		return e
	}
	return nil
}

// counterStream is n bytes of 8-byte big-endian counters (a shift by any
// number of bytes changes them).
func counterStream(n int) []byte {
	b := make([]byte, n+8)
	for i := 0; i < n; i += 8 {
		binary.BigEndian.PutUint64(b[i:], uint64(i/8))
	}
	return b[:n]
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// collector is an upstream that keeps everything one connection sends.
type collector struct {
	ln   net.Listener
	n    atomic.Int64
	done chan []byte
}

func startCollector(t *testing.T) *collector {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &collector{ln: ln, done: make(chan []byte, 1)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			s.done <- nil
			return
		}
		defer c.Close()
		var all []byte
		buf := make([]byte, 64<<10)
		for {
			n, err := c.Read(buf)
			all = append(all, buf[:n]...)
			s.n.Add(int64(n))
			if err != nil {
				break
			}
		}
		s.done <- all
	}()
	return s
}

func (s *collector) addr() string { return s.ln.Addr().String() }

// waitFor waits until the upstream has n bytes.
func (s *collector) waitFor(t *testing.T, n int64) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); s.n.Load() < n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) { // catches a hang only
			t.Fatalf("the upstream has %d bytes, want %d", s.n.Load(), n)
		}
	}
}

// all waits for the end of the stream and returns it.
func (s *collector) all(t *testing.T) []byte {
	t.Helper()
	select {
	case b := <-s.done:
		return b
	case <-time.After(20 * time.Second): // catches a hang only
		t.Fatal("the upstream's stream never ended")
		return nil
	}
}

// TestSockmapPartlyReadSegmentOnce: a segment the proxy partly read before
// its socket joined the map is handed on without the part already read.
// The kernel's sockmap takes a queued segment whole when the next one
// arrives, however much of it a read took; the program starts the socket's
// nxt at copied_seq and cuts that part. Here the socket's word is USER, so
// the program passes segments to the socket itself, where the test reads.
func TestSockmapPartlyReadSegmentOnce(t *testing.T) {
	if err := sockmapOK(); err != nil {
		t.Skipf("the sockmap fast path is not available here: %v", err)
	}
	const first, read, more = 10000, 1000, 5000
	sm, err := newSockmap(1)
	if err != nil {
		t.Fatal(err)
	}
	defer sm.close()
	src, rd := loopbackPair(t) // src writes, rd is the socket that joins the map
	peer, _ := loopbackPair(t) // the connection's other socket (the map takes pairs)
	stream := counterStream(first + more)
	if _, err := src.Write(stream[:first]); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 0, first+more)
	buf := make([]byte, read)
	if _, err := io.ReadFull(rd, buf); err != nil { // part of the one queued segment
		t.Fatal(err)
	}
	got = append(got, buf...)
	pr, ok, err := addConn(sm, rd, peer)
	if err != nil || !ok {
		t.Fatalf("add to the sockmap: ok %v, %v", ok, err)
	}
	defer sm.remove(pr)
	if _, err := src.Write(stream[first:]); err != nil { // the kernel takes the queue now
		t.Fatal(err)
	}
	rd.SetReadDeadline(time.Now().Add(20 * time.Second)) // catches a hang only
	rest := make([]byte, len(stream)-read)
	if _, err := io.ReadFull(rd, rest); err != nil {
		t.Fatalf("read the rest: %v", err)
	}
	got = append(got, rest...)
	if at := firstDiff(got, stream); at >= 0 {
		t.Errorf("the socket's stream differs from what was sent at byte %d (bytes %d..%d repeated?)", at, at-read, at)
	}
	if trimmed, failed := sm.overlaps(); trimmed != read || failed != 0 {
		t.Errorf("the program cut %d bytes (%d segments not cut), want %d and 0", trimmed, failed, read)
	}
}
