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
// black-hole them; slow (setSlow) it stands for a loaded host.
type link struct {
	tb       testing.TB
	ln       net.Listener
	upstream string

	mu      sync.Mutex
	mode    linkMode
	conns   map[net.Conn]struct{} // both sides of every open connection
	connect time.Duration         // before each new connection is dialled upstream
	latency time.Duration         // before each chunk from upstream is forwarded
	wg      sync.WaitGroup
}

// setSlow delays new connections by connect before they reach the
// upstream, and every chunk the upstream sends by latency, for connections
// opened from now on: what a loaded host does to PostgreSQL's fork and
// start-up and to each round trip, made the same on every machine.
func (l *link) setSlow(connect, latency time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.connect, l.latency = connect, latency
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
		mode, connect, latency := l.mode, l.connect, l.latency
		l.conns[c] = struct{}{}
		l.mu.Unlock()
		switch mode {
		case linkRefuse:
			l.resetOne(c)
		case linkBlackhole: // held until resetAll
		case linkPass:
			l.wg.Add(1)
			go l.forward(c, connect, latency)
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

// forward copies both ways until either side ends, then closes both; the
// upstream is dialled after connect, and what it sends is forwarded chunk
// by chunk, each after latency.
func (l *link) forward(c net.Conn, connect, latency time.Duration) {
	defer l.wg.Done()
	time.Sleep(connect)
	up, err := net.DialTimeout("tcp", l.upstream, time.Second)
	if err != nil {
		l.resetOne(c)
		return
	}
	l.mu.Lock()
	l.conns[up] = struct{}{}
	l.mu.Unlock()
	done := make(chan struct{}, 2)
	cp := func(dst net.Conn, src io.Reader) {
		_, _ = io.Copy(dst, src)
		done <- struct{}{}
	}
	go cp(up, c)
	go cp(c, delayed{up, latency})
	<-done
	l.mu.Lock()
	for _, x := range []net.Conn{c, up} {
		x.Close()
		delete(l.conns, x)
	}
	l.mu.Unlock()
	<-done
}

// delayed is a reader whose every chunk arrives latency late.
type delayed struct {
	r       io.Reader
	latency time.Duration
}

func (d delayed) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	if n > 0 {
		time.Sleep(d.latency)
	}
	return n, err
}
