package faults

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// redisMaxClients is the start of what Redis answers, and then closes, when
// a connection would exceed maxclients.
const redisMaxClients = "-ERR max number of clients reached"

// redisExhaustion occupies every free client slot of a Redis server by
// opening direct connections (to the target's upstream, bypassing the proxy)
// until the server answers "ERR max number of clients reached", and holds
// them until reverted. Like pgExhaustion it keeps topping up while applied,
// unless leaveFree asks to keep slots free.
type redisExhaustion struct {
	name      string
	addr      func() string // the server's address, read at Apply
	leaveFree int
	logger    zerolog.Logger

	// maxConns caps the connections held; 0 means redisMaxHeld.
	maxConns int
}

// The defaults of redisExhaustion.
const (
	redisOpeners     = 4
	redisMaxHeld     = 20000 // Redis's own default maxclients is 10000
	redisConnTimeout = 5 * time.Second
	redisFillTimeout = 30 * time.Second
)

func (r *redisExhaustion) Apply(ctx context.Context) (Revert, error) {
	addr := r.addr()
	if addr == "" {
		return nil, fmt.Errorf("pool-exhaustion %q: the redis target has no upstream address", r.name)
	}
	h := &redisHold{addr: addr, max: or(r.maxConns, redisMaxHeld)}
	fillCtx, cancel := context.WithTimeout(ctx, redisFillTimeout)
	err := h.fill(fillCtx)
	cancel()
	if err != nil {
		h.release()
		return nil, fmt.Errorf("pool-exhaustion %q: %w", r.name, err)
	}
	h.closeN(r.leaveFree)
	r.logger.Info().Str("fault", r.name).Int("held", h.count()).Msg("redis client slots exhausted")
	if r.leaveFree > 0 {
		return h.revert, nil
	}
	topCtx, cancelTop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.topUp(topCtx) }()
	return func(ctx context.Context) error {
		cancelTop()
		select {
		case <-done:
		case <-ctx.Done():
		}
		return h.revert(ctx)
	}, nil
}

// redisHold is the set of connections held by one Redis pool-exhaustion.
type redisHold struct {
	addr string
	max  int

	mu       sync.Mutex
	conns    []net.Conn
	released bool
}

// fill opens connections with parallel openers until the server refuses.
func (h *redisHold) fill(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make([]error, redisOpeners)
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	full := false
	var mu sync.Mutex
	for i := range redisOpeners {
		wg.Go(func() {
			for ctx.Err() == nil {
				refused, err := h.openOne(ctx)
				if err != nil {
					errs[i] = err
				}
				if refused || err != nil || h.count() >= h.max {
					mu.Lock()
					full = full || refused
					mu.Unlock()
					stop()
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil && !full {
		return err
	}
	if !full {
		return fmt.Errorf("redis at %s still accepting clients after %d connections (is maxclients set?)", h.addr, h.count())
	}
	return nil
}

// openOne opens one connection, checks it with PING and keeps it. It
// reports whether the server refused it for lack of client slots.
func (h *redisHold) openOne(ctx context.Context) (bool, error) {
	ok, refused, c, err := redisPing(ctx, h.addr)
	if err != nil || !ok {
		return refused, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.released {
		c.Close()
		return false, nil
	}
	h.conns = append(h.conns, c)
	return false, nil
}

// redisPing connects to addr and sends PING. It returns the open connection
// when the server answered PONG, or refused when it answered that it has no
// client slot left (and closed the connection).
func redisPing(ctx context.Context, addr string) (ok, refused bool, c net.Conn, err error) {
	ctx, cancel := context.WithTimeout(ctx, redisConnTimeout)
	defer cancel()
	c, err = new(net.Dialer).DialContext(ctx, "tcp", addr)
	if err != nil {
		return false, false, nil, fmt.Errorf("connect to redis at %s: %w", addr, err)
	}
	dl, _ := ctx.Deadline()
	c.SetDeadline(dl)
	line, err := func() (string, error) {
		if _, err := c.Write([]byte("PING\r\n")); err != nil {
			return "", err
		}
		return bufio.NewReader(c).ReadString('\n')
	}()
	c.SetDeadline(time.Time{})
	switch {
	case strings.HasPrefix(line, redisMaxClients):
		c.Close()
		return false, true, nil, nil
	case err != nil:
		c.Close()
		return false, false, nil, fmt.Errorf("PING redis at %s: %w", addr, err)
	case !strings.HasPrefix(line, "+PONG"):
		c.Close()
		return false, false, nil, fmt.Errorf("PING redis at %s: answered %q", addr, strings.TrimSpace(line))
	}
	return true, false, c, nil
}

// topUp keeps taking slots as they free up until ctx is done.
func (h *redisHold) topUp(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		wait := pgTopUpEvery
		if _, err := h.openOne(ctx); err != nil {
			wait = pgBackoff
		} else if h.count() >= h.max {
			return
		}
		t.Reset(wait)
	}
}

func (h *redisHold) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

// closeN closes n held connections.
func (h *redisHold) closeN(n int) {
	h.mu.Lock()
	n = min(n, len(h.conns))
	closing := h.conns[len(h.conns)-n:]
	h.conns = h.conns[:len(h.conns)-n]
	h.mu.Unlock()
	for _, c := range closing {
		c.Close()
	}
}

// release closes every held connection; later opens close at once.
func (h *redisHold) release() {
	h.mu.Lock()
	conns := h.conns
	h.conns, h.released = nil, true
	h.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// revert releases every connection and waits until the server takes a new
// client again, so the fault's end is when slots are really free.
func (h *redisHold) revert(ctx context.Context) error {
	h.release()
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		ok, _, c, err := redisPing(ctx, h.addr)
		if ok {
			c.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("redis at %s still refuses clients after release (%v): %w", h.addr, err, ctx.Err())
		case <-t.C:
		}
	}
}
