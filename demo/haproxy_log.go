package demo

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/chaosload/chaosload/balancer"
)

// haproxyLog receives haproxy's log lines on a unix datagram socket and
// keeps the servers' state changes, timed when each line is read.
type haproxyLog struct {
	path string
	conn *net.UnixConn
	done chan struct{} // closed when the reading goroutine has returned

	mu   sync.Mutex
	evts []balancer.Event
}

// stateLine matches haproxy's line for a server's state change:
// "Server replicas/r1 is DOWN, reason: Layer4 connection problem, ...".
var stateLine = regexp.MustCompile(`Server [^/\s]+/(\S+) is (UP|DOWN)\b,?\s*(?:reason: )?(.*)`)

// listenHAProxyLog binds the socket at path and starts reading it.
func listenHAProxyLog(path string) (*haproxyLog, error) {
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("listen for haproxy's log: %w", err)
	}
	l := &haproxyLog{path: path, conn: conn, done: make(chan struct{})}
	go l.read()
	return l, nil
}

// read records every state change until the socket is closed.
func (l *haproxyLog) read() {
	defer close(l.done)
	buf := make([]byte, 8192)
	for {
		n, err := l.conn.Read(buf)
		if err != nil {
			return
		}
		at := time.Now()
		m := stateLine.FindStringSubmatch(strings.TrimSpace(string(buf[:n])))
		if m == nil {
			continue
		}
		l.mu.Lock()
		l.evts = append(l.evts, balancer.Event{At: at, Server: m[1], State: m[2], Reason: m[3]})
		l.mu.Unlock()
	}
}

// events returns the state changes read so far.
func (l *haproxyLog) events() []balancer.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]balancer.Event(nil), l.evts...)
}

// close stops reading and waits for the reader.
func (l *haproxyLog) close() error {
	err := l.conn.Close()
	<-l.done
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
