package demo

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// linkMode is what a link does with a new connection.
type linkMode int

const (
	linkPass      linkMode = iota // forward to the upstream
	linkRefuse                    // accept and reset at once
	linkBlackhole                 // accept and never answer
)

// link is a TCP forwarder a test controls, standing where the runner puts a
// fault proxy: it can reset every connection at once, refuse new ones, or
// black-hole them.
type link struct {
	tb       testing.TB
	ln       net.Listener
	upstream string

	mu    sync.Mutex
	mode  linkMode
	conns map[net.Conn]struct{} // both sides of every open connection
	wg    sync.WaitGroup
}

// newLink forwards a loopback port to upstream until the test ends.
func newLink(tb testing.TB, upstream string) *link {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	l := &link{tb: tb, ln: ln, upstream: upstream, conns: map[net.Conn]struct{}{}}
	l.wg.Add(1)
	go l.accept()
	tb.Cleanup(func() {
		ln.Close()
		l.resetAll()
		l.wg.Wait()
	})
	return l
}

func (l *link) addr() string { return l.ln.Addr().String() }

func (l *link) setMode(m linkMode) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.mode = m
}

// resetAll closes every open connection with an RST.
func (l *link) resetAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		c.Close()
		delete(l.conns, c)
	}
}

func (l *link) accept() {
	defer l.wg.Done()
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		l.mu.Lock()
		mode := l.mode
		l.conns[c] = struct{}{}
		l.mu.Unlock()
		switch mode {
		case linkRefuse:
			l.resetOne(c)
		case linkBlackhole: // held until resetAll
		case linkPass:
			l.wg.Add(1)
			go l.forward(c)
		}
	}
}

func (l *link) resetOne(c net.Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_ = c.(*net.TCPConn).SetLinger(0)
	c.Close()
	delete(l.conns, c)
}

// forward copies both ways until either side ends, then closes both.
func (l *link) forward(c net.Conn) {
	defer l.wg.Done()
	up, err := net.DialTimeout("tcp", l.upstream, time.Second)
	if err != nil {
		l.resetOne(c)
		return
	}
	l.mu.Lock()
	l.conns[up] = struct{}{}
	l.mu.Unlock()
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		done <- struct{}{}
	}
	go cp(up, c)
	go cp(c, up)
	<-done
	l.mu.Lock()
	for _, x := range []net.Conn{c, up} {
		x.Close()
		delete(l.conns, x)
	}
	l.mu.Unlock()
	<-done
}
