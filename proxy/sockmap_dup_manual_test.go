//go:build manual

// A bulk reproduction of retransmitted segments that overlap what a sockmap
// socket already received, not part of the suite (`go test ./...` does not
// build it; TestSockmapOverlapOnce makes the overlap deterministically): run
// it with
//
//	go test -tags manual -run TestSockmapBulkDuplicates -count 12 -v ./proxy
//
// Before the program cut overlapping segments (sockmap_overlap.go) it failed
// in about 1 run in 4 to 8 on Linux 6.18: a segment delivered twice. It logs
// how many bytes the program cut.

package proxy

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// TestSockmapBulkDuplicates streams DUP_MIB MiB (default 1000) the way the
// bulk benchmark does (1 MiB writes from the moment the client connected)
// through a proxy on the sockmap path, every 8 bytes a counter, and checks
// at the server that every counter arrives once, in order. On a mismatch it
// says where, how many bytes later the expected counter reappears, and the
// proxy's own view (bytes it read and wrote, bytes the kernel forwarded).
func TestSockmapBulkDuplicates(t *testing.T) {
	mib, _ := strconv.Atoi(os.Getenv("DUP_MIB"))
	if mib == 0 {
		mib = 1000
	}
	res := make(chan string, 1)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		var head [8]byte
		if _, err := io.ReadFull(c, head[:]); err != nil {
			res <- "head: " + err.Error()
			return
		}
		want := binary.BigEndian.Uint64(head[:])
		buf := make([]byte, 256<<10)
		var total, next uint64
		var carry []byte
		bad := ""
		for total < want {
			n, err := c.Read(buf)
			if n > 0 && bad == "" {
				data := append(carry, buf[:n]...)
				i := 0
				for ; i+8 <= len(data); i += 8 {
					v := binary.BigEndian.Uint64(data[i:])
					if v != next%(64<<17) {
						// find where the expected word reappears, byte-aligned
						want8 := make([]byte, 8)
						binary.BigEndian.PutUint64(want8, next%(64<<17))
						resume := -1
						nz := 0
						for j := i; j+8 <= len(data); j++ {
							if string(data[j:j+8]) == string(want8) {
								resume = j - i
								break
							}
						}
						for j := i; j < len(data) && data[j] == 0; j++ {
							nz++
						}
						fmt.Fprintf(os.Stderr, "mismatch: resume after %d bytes, %d zero bytes from the mismatch, first words % x\n", resume, nz, data[i:min(i+32, len(data))])
						bad = fmt.Sprintf("at byte %d (read of %d at total %d): word %d, want %d", total+uint64(i)-uint64(len(carry)), n, total, v, next%(64<<17))
						break
					}
					next++
				}
				carry = append([]byte(nil), data[i:]...)
			}
			total += uint64(n)
			if err != nil {
				break
			}
		}
		res <- fmt.Sprintf("total %d want %d %s", total, want, bad)
		var out [8]byte
		binary.BigEndian.PutUint64(out[:], total)
		c.Write(out[:])
	}()
	p := startTestProxy(t, Config{Name: "dup", Upstream: ln.Addr().String()})
	cc, _ := net.Dial("tcp", p.Addr())
	c := cc.(*net.TCPConn)
	defer c.Close()
	blocks := make([][]byte, 64)
	var w uint64
	for k := range blocks {
		blocks[k] = make([]byte, 1<<20)
		for i := 0; i < 1<<20; i += 8 {
			binary.BigEndian.PutUint64(blocks[k][i:], w%(64<<17))
			w++
		}
	}
	var head [8]byte
	binary.BigEndian.PutUint64(head[:], uint64(mib)<<20)
	c.Write(head[:])
	for k := range mib {
		if _, err := c.Write(blocks[k%64]); err != nil {
			t.Fatal(err)
		}
	}
	var total [8]byte
	io.ReadFull(c, total[:])
	// The client socket's own count of what it sent and what was
	// acknowledged tells a sender that wrote bytes twice from a proxy that
	// read them twice.
	if raw, err := c.SyscallConn(); err == nil {
		raw.Control(func(fd uintptr) {
			if ti, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO); err == nil {
				t.Logf("client socket: bytes_acked %d bytes_sent %d (wrote %d)", ti.Bytes_acked, ti.Bytes_sent, uint64(mib)<<20+8)
			}
		})
	}
	p.mu.Lock()
	for cn := range p.conns {
		l := cn.links[0]
		if l.k != nil {
			t.Logf("up link: nread %d written %d redirected %d refills %d faultExits %d", l.nread, l.written.Load(), l.k.redirected.Load(), l.k.refills, l.k.faultExits)
		}
	}
	p.mu.Unlock()
	if p.sm != nil {
		tr, tf := p.sm.overlaps()
		t.Logf("overlapping segments: %d bytes trimmed, %d not trimmed", tr, tf)
	}
	r := <-res
	s := p.Stats()
	t.Logf("%s; stats up %d", r, s.BytesUp)
	if binary.BigEndian.Uint64(total[:]) != uint64(mib)<<20 {
		t.Errorf("DUP: %s; stats up %d (sent %d)", r, s.BytesUp, uint64(mib)<<20+8)
	}
}
