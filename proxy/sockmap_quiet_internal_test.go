package proxy

import (
	"bufio"
	"context"
	"net"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/chaosload/chaosload/faults"
)

// TestSockmapQuietReads: while a connection's links are on the kernel path,
// the runtime's epoll no longer asks for readability on its sockets (the
// kernel's per-segment wake-ups are filtered out); a fault gives it back
// before the proxy reads, and the revert takes it away again. Traffic
// flows at every step.
func TestSockmapQuietReads(t *testing.T) {
	if err := sockmapOK(); err != nil {
		t.Skipf("the sockmap fast path is not available here: %v", err)
	}
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		t.Skipf("quiet reads are built for amd64 and arm64, not %s", runtime.GOARCH)
	}
	up := serveEcho(t)
	p := startTestProxy(t, Config{Name: "quiet", Upstream: up})
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	echoOnce(t, c)
	waitKernelLinks(t, p, 2)
	waitQuiet(t, p, 2)
	echoOnce(t, c)
	fds := proxySockets(t, p)
	wantEvents := func(step string, in bool) {
		t.Helper()
		for _, fd := range fds {
			events, _, found := epollEntry(goEpoll.fd, fd)
			if !found {
				t.Fatalf("%s: fd %d is not in the runtime's epoll", step, fd)
			}
			if got := events&unix.EPOLLIN != 0; got != in {
				t.Errorf("%s: fd %d registered for %#x: EPOLLIN %v, want %v", step, fd, events, got, in)
			}
			if events&(unix.EPOLLOUT|unix.EPOLLRDHUP) != unix.EPOLLOUT|unix.EPOLLRDHUP {
				t.Errorf("%s: fd %d registered for %#x: EPOLLOUT and EPOLLRDHUP must stay", step, fd, events)
			}
		}
	}
	wantEvents("on the kernel path", false)
	revert, err := p.Inject(context.Background(), "lat", faults.LatencySpec{Latency: time.Millisecond, Direction: faults.Both}, 1)
	if err != nil {
		t.Fatal(err)
	}
	waitKernelLinks(t, p, 0)
	waitQuiet(t, p, 0)
	echoOnce(t, c)
	wantEvents("under a latency fault", true)
	if err := revert(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitKernelLinks(t, p, 2)
	waitQuiet(t, p, 2)
	echoOnce(t, c)
	wantEvents("after the revert", false)
}

// waitQuiet waits until n links have quieted their source's reads. The
// count is read atomically, after the runtime's epoll was found: goEpoll
// may be read then.
func waitQuiet(t *testing.T, p *Proxy, n int64) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); p.sm.quiet.Load() != n; time.Sleep(50 * time.Microsecond) {
		if time.Now().After(deadline) { // catches a hang only
			t.Fatalf("after 20 s: %d links with quiet reads, want %d (the runtime's epoll: %v)", p.sm.quiet.Load(), n, goEpollErr())
		}
	}
}

// TestSockmapBudgetWakesQuietLink: 16 MiB of records sent up as fast as the
// client can, through a proxy on the kernel path. Every 4 MiB the program
// hands the link back to the proxy (FULL): the link's reads are quiet, so
// only the ring buffer's record wakes it; without it the stream would stop
// at the first 4 MiB. Every record arrives once, in order.
func TestSockmapBudgetWakesQuietLink(t *testing.T) {
	if err := sockmapOK(); err != nil {
		t.Skipf("the sockmap fast path is not available here: %v", err)
	}
	const total = 16 << 20
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var got atomic.Uint64
	read := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			read <- err
			return
		}
		defer c.Close()
		read <- readRecords(c, &got)
	}()
	p := startTestProxy(t, Config{Name: "budget", Upstream: ln.Addr().String()})
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitKernelLinks(t, p, 2)
	c.SetWriteDeadline(time.Now().Add(60 * time.Second)) // catches a hang only
	w := bufio.NewWriterSize(c, 1<<20)
	var sent uint64
	for seq := uint64(0); sent < total; seq++ {
		b := record(seq)
		if _, err := w.Write(b); err != nil {
			t.Fatalf("write record %d (%d bytes sent, the server has %d): %v", seq, sent, got.Load(), err)
		}
		sent += uint64(len(b))
	}
	if err := w.Flush(); err != nil {
		t.Fatalf("%d bytes sent, the server has %d: %v", sent, got.Load(), err)
	}
	for deadline := time.Now().Add(60 * time.Second); got.Load() < sent; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) { // catches a hang only
			t.Fatalf("after 60 s the server has %d of %d bytes: the link was not woken", got.Load(), sent)
		}
	}
	_, refills := linkExits(p)
	c.(*net.TCPConn).CloseWrite()
	if err := <-read; err != nil {
		t.Fatal(err)
	}
	if got.Load() != sent {
		t.Fatalf("the server got %d bytes, the client sent %d", got.Load(), sent)
	}
	if refills[1] < 1 {
		t.Errorf("the link was handed back %d times for %d MiB, want ≥ 1 (after the first 4 MiB)", refills[1], total>>20)
	}
	if s := p.Stats(); s.BytesUp != sent {
		t.Errorf("Stats: %d bytes up, the client sent %d", s.BytesUp, sent)
	}
}

// serveEcho serves an echo until the test ends and returns its address.
func serveEcho(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				b := make([]byte, 4096)
				for {
					n, err := c.Read(b)
					if err != nil {
						return
					}
					if _, err := c.Write(b[:n]); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// echoOnce does one 64-byte round trip on c.
func echoOnce(t *testing.T, c net.Conn) {
	t.Helper()
	b := make([]byte, 64)
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(30 * time.Second)) // catches a hang only
	defer c.SetReadDeadline(time.Time{})
	for n := 0; n < len(b); {
		m, err := c.Read(b[n:])
		if err != nil {
			t.Fatal(err)
		}
		n += m
	}
}

// proxySockets returns the descriptors of the proxy's client and upstream
// sockets of its one connection.
func proxySockets(t *testing.T, p *Proxy) []int {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	var fds []int
	for c := range p.conns {
		c.mu.Lock()
		for _, tc := range []*net.TCPConn{c.client, c.up} {
			raw, err := tc.SyscallConn()
			if err != nil {
				t.Fatal(err)
			}
			raw.Control(func(fd uintptr) { fds = append(fds, int(fd)) })
		}
		c.mu.Unlock()
	}
	if len(fds) != 2 {
		t.Fatalf("%d sockets, want the 2 of one connection", len(fds))
	}
	return fds
}
