package faults

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// redisMaxClients is the start of what Redis answers, and then closes, when
// a connection would exceed maxclients.
const redisMaxClients = "-ERR max number of clients reached"

// redisSlots is the Redis side of a slot hold: connections to the server's
// address (bypassing the proxy), named with CLIENT SETNAME so that the
// revert can see them gone. Redis reserves no slots: only leaveFree applies.
type redisSlots struct {
	addr      func() string // read at each dial: a stack's address is known late
	name      string        // the hold's client name
	leaveFree int
}

func newRedisSlots(name string, addr func() string, spec PoolExhaustionSpec) *redisSlots {
	return &redisSlots{addr: addr, name: "chaosload-pool-exhaustion-" + clientName(name), leaveFree: spec.LeaveFree}
}

// clientName makes s a valid Redis client name (no spaces or newlines).
func clientName(s string) string {
	return strings.Map(func(r rune) rune {
		if r <= ' ' || r > '~' {
			return '_'
		}
		return r
	}, s)
}

func (s *redisSlots) String() string { return "redis at " + s.addr() }

// connect dials the server with the connection's deadline taken from ctx.
func (s *redisSlots) connect(ctx context.Context) (*respConn, error) {
	addr := s.addr()
	if addr == "" {
		return nil, errors.New("the redis target has no upstream address")
	}
	c, err := new(net.Dialer).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	rc := &respConn{c: c, r: bufio.NewReader(c)}
	dl, _ := ctx.Deadline()
	c.SetDeadline(dl)
	return rc, nil
}

// dial connects and names the connection; the +OK proves Redis took it,
// "max number of clients reached" that it had no slot.
func (s *redisSlots) dial(ctx context.Context) (net.Conn, error) {
	rc, err := s.named(ctx)
	if err != nil {
		return nil, err
	}
	rc.c.SetDeadline(time.Time{})
	return rc.c, nil
}

func (s *redisSlots) named(ctx context.Context) (*respConn, error) {
	rc, err := s.connect(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := rc.do("CLIENT", "SETNAME", s.name); err != nil {
		rc.c.Close()
		if refusedRedis(err) {
			return nil, fmt.Errorf("%w: %v", errNoSlot, err)
		}
		return nil, err
	}
	return rc, nil
}

// refusedRedis reports whether the first exchange on a new connection
// failed because Redis refused it: its message, or the connection closed
// under the command (Redis writes the message and closes at once, and a
// reset can discard the message before it is read; Redis closes a new
// connection unasked for no other reason).
func refusedRedis(err error) bool {
	var re respError
	if errors.As(err, &re) {
		return strings.HasPrefix("-"+string(re), redisMaxClients)
	}
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

func (s *redisSlots) hangUp(c net.Conn) { c.Close() }

// openProbe opens a named connection and reads maxclients; a server that
// hides CONFIG leaves the probe unable to count (the hold then tries one
// connection at a time).
func (s *redisSlots) openProbe(ctx context.Context) (slotProbe, error) {
	rc, err := s.named(ctx)
	if err != nil {
		return nil, err
	}
	p := &redisProbe{rc: rc, leaveFree: s.leaveFree}
	if v, err := rc.do("CONFIG", "GET", "maxclients"); err == nil {
		if kv, ok := v.([]any); ok && len(kv) == 2 {
			p.max, _ = strconv.Atoi(fmt.Sprint(kv[1]))
		}
	} else if !errors.As(err, new(respError)) {
		rc.c.Close()
		return nil, err
	}
	rc.c.SetDeadline(time.Time{})
	return p, nil
}

// released waits until the server lists no client of the hold's name.
func (s *redisSlots) released(ctx context.Context) error {
	rc, err := s.connect(ctx)
	if err != nil {
		return fmt.Errorf("check released connections: %w", err)
	}
	defer rc.c.Close()
	return pollUntil(ctx, 5*time.Millisecond, "clients still connected after release", func() (bool, error) {
		clients, err := rc.clients()
		return err == nil && !clients.named(s.name), err
	})
}

// answer: Redis refuses a client unasked, with redisMaxClients, as soon as
// it connects; any other first reply means it was taken.
func (s *redisSlots) answer(b []byte) ServerAnswer {
	n := min(len(b), len(redisMaxClients))
	switch {
	case !bytes.Equal(b[:n], []byte(redisMaxClients[:n])):
		return Admitted
	case n == len(redisMaxClients):
		return NoSlot
	}
	return Undecided
}

// redisProbe asks Redis about its slots over a connection of the hold.
type redisProbe struct {
	rc        *respConn
	max       int // maxclients; 0 when CONFIG is not available
	leaveFree int
}

func (p *redisProbe) free(ctx context.Context) (int, bool, error) {
	if p.max == 0 {
		return 0, false, p.ping(ctx)
	}
	p.rc.deadline(ctx)
	v, err := p.rc.do("INFO", "clients")
	if err != nil {
		return 0, false, err
	}
	info, _ := v.(string)
	used, ok := infoField(info, "connected_clients")
	if !ok {
		return 0, false, fmt.Errorf("INFO clients has no connected_clients: %q", info)
	}
	return p.max - used - p.leaveFree, true, nil
}

// ping checks that the probe's connection is still alive.
func (p *redisProbe) ping(ctx context.Context) error {
	p.rc.deadline(ctx)
	_, err := p.rc.do("PING")
	return err
}

func (p *redisProbe) listed(ctx context.Context, addrs []string) ([]string, error) {
	p.rc.deadline(ctx)
	clients, err := p.rc.clients()
	if err != nil {
		return nil, err
	}
	var still []string
	for _, a := range addrs {
		if clients.has(a) {
			still = append(still, a)
		}
	}
	return still, nil
}

func (p *redisProbe) close() { p.rc.c.Close() }

// infoField reads an integer field of an INFO section.
func infoField(info, key string) (int, bool) {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), key+":"); ok {
			n, err := strconv.Atoi(v)
			return n, err == nil
		}
	}
	return 0, false
}

// respConn is a minimal RESP client: commands as arrays of bulk strings,
// replies of the five RESP2 types.
type respConn struct {
	c net.Conn
	r *bufio.Reader
}

// respError is an error reply, without its leading '-'.
type respError string

func (e respError) Error() string { return string(e) }

// deadline bounds the next exchange by ctx's deadline (none without one).
func (rc *respConn) deadline(ctx context.Context) {
	dl, _ := ctx.Deadline()
	rc.c.SetDeadline(dl)
}

func (rc *respConn) do(args ...string) (any, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := rc.c.Write(b.Bytes()); err != nil {
		// Redis may have refused and closed already: its reason is readable.
		if v, rerr := rc.read(); rerr != nil && errors.As(rerr, new(respError)) {
			return v, rerr
		}
		return nil, err
	}
	return rc.read()
}

// read reads one reply: a string, an int64, nil, []any, or a respError.
func (rc *respConn) read() (any, error) {
	line, err := rc.r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return nil, errors.New("redis: empty reply line")
	}
	switch body := line[1:]; line[0] {
	case '+':
		return body, nil
	case '-':
		return nil, respError(body)
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 {
			return nil, err
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(rc.r, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 {
			return nil, err
		}
		items := make([]any, n)
		for i := range items {
			if items[i], err = rc.read(); err != nil {
				return nil, err
			}
		}
		return items, nil
	}
	return nil, fmt.Errorf("redis: unexpected reply %q", line)
}

// clientList is the output of CLIENT LIST.
type clientList string

func (rc *respConn) clients() (clientList, error) {
	v, err := rc.do("CLIENT", "LIST")
	if err != nil {
		return "", err
	}
	s, _ := v.(string)
	return clientList(s), nil
}

// has reports whether a client connected from addr.
func (l clientList) has(addr string) bool { return l.field("addr=" + addr + " ") }

// named reports whether a client is called name.
func (l clientList) named(name string) bool { return l.field("name=" + name + " ") }

func (l clientList) field(f string) bool {
	for line := range strings.Lines(string(l)) {
		if strings.Contains(strings.TrimRight(line, "\r\n")+" ", " "+f) {
			return true
		}
	}
	return false
}
