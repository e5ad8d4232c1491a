package proxy

import (
	"errors"
	"net"
	"syscall"
	"testing"
	"unsafe"

	"github.com/Shopify/toxiproxy/v2/stream"
)

// TestLoopbackLinksUseReno: a link whose source socket has two loopback ends
// switches it to Reno (cheaper than BBR's paced sends, see useReno), and a
// kernel-loss mark gives the socket the system's default back, so that a
// lossy leg reacts to loss as a direct connection would. The congestion
// control is read back from the kernel (getsockopt TCP_CONGESTION).
func TestLoopbackLinksUseReno(t *testing.T) {
	a, b := loopbackPair(t)
	def := defaultCC()
	if def == "" {
		t.Skip("net.ipv4.tcp_congestion_control is not readable")
	}
	if got := congestion(t, a); got != def {
		t.Fatalf("a fresh socket uses %q, want the default %q", got, def)
	}
	newLink(&conn{}, stream.Upstream, a, b)
	if got := congestion(t, a); got != "reno" {
		t.Fatalf("after newLink the source socket uses %q, want reno", got)
	}
	if got := congestion(t, b); got != def {
		t.Errorf("newLink changed its destination socket to %q; it is the source of the other link", got)
	}
	if def == "reno" {
		t.Skip("the default is reno: restoring it cannot be told apart")
	}
	err := setMark(a, 0x5eed)
	if errors.Is(err, syscall.EPERM) {
		t.Skip("SO_MARK needs CAP_NET_ADMIN")
	}
	if err != nil {
		t.Fatal(err)
	}
	if got := congestion(t, a); got != def {
		t.Errorf("a socket marked for kernel loss uses %q, want the default %q", got, def)
	}
}

func loopbackPair(t *testing.T) (*net.TCPConn, *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	b, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return a.(*net.TCPConn), b.(*net.TCPConn)
}

// congestion reads a socket's TCP_CONGESTION (package syscall has no
// string getsockopt).
func congestion(t *testing.T, tc *net.TCPConn) string {
	t.Helper()
	raw, err := tc.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var buf [16]byte
	n := uint32(len(buf))
	var errno syscall.Errno
	raw.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall6(syscall.SYS_GETSOCKOPT, fd, syscall.IPPROTO_TCP, syscall.TCP_CONGESTION,
			uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&n)), 0)
	})
	if errno != 0 {
		t.Fatalf("getsockopt TCP_CONGESTION: %v", errno)
	}
	s := string(buf[:n])
	for i := range s {
		if s[i] == 0 {
			return s[:i]
		}
	}
	return s
}
