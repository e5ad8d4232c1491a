package faults

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// slotServer is the per-protocol part of a slot hold (pgSlots, redisSlots):
// how to open one connection to the server and recognise its refusal, how
// to ask it how many slots are free, and what it answers a proxied client.
type slotServer interface {
	// String names the server in logs and errors.
	String() string
	// dial opens one connection, completes its handshake and returns it
	// idle; an error wrapping errNoSlot when the server refused it for lack
	// of slots.
	dial(ctx context.Context) (net.Conn, error)
	// hangUp ends a held connection politely and closes it.
	hangUp(c net.Conn)
	// openProbe opens the connection the hold asks the server through (it
	// holds a slot too); errNoSlot when the server is full already.
	openProbe(ctx context.Context) (slotProbe, error)
	// answer recognises the server's first bytes on a proxied connection.
	answer(first []byte) ServerAnswer
	// released waits until the server lists no connection of the hold any
	// more, once every one was closed.
	released(ctx context.Context) error
}

// slotProbe asks the server about its slots over one connection.
type slotProbe interface {
	// free returns how many more slots the hold should take now: the
	// server's free slots less those the hold leaves (leaveFree, reserved);
	// known is false when the server cannot say, and the hold then takes
	// one slot at a time until refused.
	free(ctx context.Context) (n int, known bool, err error)
	// listed returns those of addrs (host:port) the server lists as clients.
	listed(ctx context.Context, addrs []string) ([]string, error)
	close()
}

// errNoSlot is what a slotServer's dial wraps when the server refused the
// connection for lack of slots.
var errNoSlot = errors.New("the server has no connection slot left")

// HoldStats is what a pool exhaustion did at the server itself.
type HoldStats struct {
	// Held is the number of slots held now; Peak the most held at once.
	Held, Peak int
	// Attempts counts the hold's own connection attempts; Refused those the
	// server refused for lack of slots.
	Attempts, Refused int64
	// Checks counts the top-ups; Polls those the slow poll started; Events
	// the connection events that asked for one (a new or closed connection
	// through the proxy, a held connection lost).
	Checks, Polls, Events int64
}

// holdConfig tunes a slot hold. Zero values are the defaults.
type holdConfig struct {
	poll        time.Duration // the slow poll: a top-up with no event
	applyBound  time.Duration // Apply returns by then, holding what it has
	pendingWait time.Duration // waiting for a closed proxied connection's slot
	connTimeout time.Duration // one connection attempt
	openers     int           // connection attempts at once
	maxHeld     int           // safety cap
}

// The defaults of holdConfig.
const (
	holdPoll        = time.Second
	holdApplyBound  = 2 * time.Second
	holdPendingWait = time.Second
	holdConnTimeout = 5 * time.Second
	holdOpeners     = 16
	holdMaxHeld     = 20000 // Redis's default maxclients is 10000
	// refusalRetries bounds the re-tries of a top-up whose attempts were
	// refused although the server listed free slots (a backend still
	// exiting, or another client quicker).
	refusalRetries = 3
	refusalPause   = 10 * time.Millisecond
	settlePause    = 5 * time.Millisecond
)

func (c holdConfig) withDefaults() holdConfig {
	c.poll = or(c.poll, holdPoll)
	c.applyBound = or(c.applyBound, holdApplyBound)
	c.pendingWait = or(c.pendingWait, holdPendingWait)
	c.connTimeout = or(c.connTimeout, holdConnTimeout)
	c.openers = or(c.openers, holdOpeners)
	c.maxHeld = or(c.maxHeld, holdMaxHeld)
	return c
}

// slotHold holds a server's connection slots: it takes every free one
// (leaving what its server says to leave) and tops up as slots free again.
// A top-up ("check") runs when asked by an event (Admit, Closed, a held
// connection lost) and on a slow poll; each asks the server how many slots
// are free and takes that many, so with nobody else connecting the server
// sees no attempt at all.
//
// A check is rounds of: wait for the slots of closed proxied connections
// (below), ask the server how many slots are free, take that many; it ends
// at a round that found none free. Admit makes a new proxied connection
// wait until a check has ended whose last round began after it arrived: by
// then every slot freed before it (by a reset, a client leaving) is held
// again, and the server itself refuses it. A proxied connection that closed
// may still hold its slot for a moment (the server has to notice); Closed
// records its address and the next round waits until the server no longer
// lists it.
//
//	events ─┐                 ┌─ settle ─ probe: free slots? ─ dial that many ─ keep ─┐
//	poll  ──┴─▶ loop (run) ──▶┤   (a round: rounds++)                    none free ◀─┘
//	Admit ◀── done ≥ want ◀───┘ (at the check's end: done = rounds; want = rounds+1)
type slotHold struct {
	srv slotServer
	cfg holdConfig
	log zerolog.Logger

	kick    chan struct{} // capacity 1: "check again"
	stopped chan struct{} // closed by release
	conns   sync.WaitGroup

	probe slotProbe // owned by run

	mu       sync.Mutex
	held     map[net.Conn]struct{}
	pending  map[string]struct{} // upstream addresses of closed proxied connections
	rounds   uint64              // rounds begun
	done     uint64              // rounds of the checks completed
	checks   uint64              // checks completed
	doneCh   chan struct{}       // closed (and replaced) when a check completes
	firstErr error               // what the first check failed with
	released bool
	stats    HoldStats
}

func newSlotHold(srv slotServer, cfg holdConfig, log zerolog.Logger) *slotHold {
	return &slotHold{
		srv: srv, cfg: cfg.withDefaults(), log: log,
		kick: make(chan struct{}, 1), stopped: make(chan struct{}),
		held: map[net.Conn]struct{}{}, pending: map[string]struct{}{}, doneCh: make(chan struct{}),
	}
}

// start opens the probe connection: a server that cannot be reached or
// refuses the credentials fails the apply here. A server full already is
// fine (nothing to take).
func (h *slotHold) start(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.connTimeout)
	defer cancel()
	h.count(func(s *HoldStats) { s.Attempts++ })
	p, err := h.srv.openProbe(ctx)
	switch {
	case errors.Is(err, errNoSlot):
		h.count(func(s *HoldStats) { s.Refused++ })
		return nil
	case err != nil:
		return fmt.Errorf("connect to %s: %w", h.srv, err)
	}
	h.probe = p
	h.count(func(s *HoldStats) { s.Held++; s.Peak = max(s.Peak, s.Held) })
	return nil
}

// run tops up until ctx ends: once at once (the fill), then on every event
// and poll.
func (h *slotHold) run(ctx context.Context) {
	poll := time.NewTicker(h.cfg.poll)
	defer poll.Stop()
	for {
		h.checkOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-h.kick:
		case <-poll.C:
			h.count(func(s *HoldStats) { s.Polls++ })
		}
	}
}

// checkOnce runs one check and wakes those waiting for its rounds.
func (h *slotHold) checkOnce(ctx context.Context) {
	h.count(func(s *HoldStats) { s.Checks++ })
	err := h.check(ctx)
	if err != nil && ctx.Err() == nil {
		h.log.Warn().Err(err).Str("server", h.srv.String()).Msg("pool-exhaustion top-up")
	}
	h.mu.Lock()
	h.done = h.rounds
	h.checks++
	if h.checks == 1 {
		h.firstErr = err
	}
	close(h.doneCh)
	h.doneCh = make(chan struct{})
	h.mu.Unlock()
}

// check takes every slot the server has free for the hold, after the slots
// of closed proxied connections have come back, round after round until the
// server has none free.
func (h *slotHold) check(ctx context.Context) error {
	for retries := 0; ; {
		h.mu.Lock()
		h.rounds++ // before settling: an Admit from now on waits for the next round
		h.mu.Unlock()
		h.settle(ctx)
		if h.count(nil).Held >= h.cfg.maxHeld {
			return nil
		}
		n, known, err := h.free(ctx)
		if err != nil {
			return err
		}
		if known && n <= 0 {
			return nil
		}
		if !known {
			n = 1 // the server cannot say: one at a time until refused
		}
		took, refused, err := h.openN(ctx, min(n, h.cfg.maxHeld-h.count(nil).Held))
		switch {
		case err != nil && took == 0:
			return err
		case err != nil: // some attempts failed (a timeout on a loaded host): try again later
			h.log.Warn().Err(err).Int("took", took).Str("server", h.srv.String()).Msg("pool-exhaustion: some connections failed")
			return nil
		case !refused:
			continue // all taken: more may have freed meanwhile
		case !known || retries == refusalRetries:
			return nil
		}
		retries++
		if !sleepCtx(ctx, refusalPause) {
			return nil
		}
	}
}

// free asks the probe how many slots to take, reopening it if it was lost.
// Without a probe (the server was full when it was last opened) the server
// is taken as full.
func (h *slotHold) free(ctx context.Context) (int, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.connTimeout)
	defer cancel()
	if h.probe != nil {
		n, known, err := h.probe.free(ctx)
		if err == nil {
			return n, known, nil
		}
		h.log.Debug().Err(err).Msg("pool-exhaustion: probe lost; reopening")
		h.probe.close()
		h.probe = nil
		h.count(func(s *HoldStats) { s.Held-- })
	}
	if err := h.start(ctx); err != nil {
		return 0, false, err
	}
	if h.probe == nil {
		return 0, true, nil
	}
	return h.probe.free(ctx)
}

// openN makes n connection attempts, up to cfg.openers at once, and keeps
// the took that succeed. refused is true when the server refused any (or an
// attempt failed); no new attempt is made then.
func (h *slotHold) openN(ctx context.Context, n int) (took int, refused bool, err error) {
	var left, kept atomic.Int64
	left.Store(int64(n))
	var no atomic.Bool
	var wg sync.WaitGroup
	errs := make([]error, min(n, h.cfg.openers))
	for i := range errs {
		wg.Go(func() {
			for !no.Load() && left.Add(-1) >= 0 && ctx.Err() == nil {
				switch c, err := h.dial(ctx); {
				case errors.Is(err, errNoSlot):
					no.Store(true)
				case err != nil:
					errs[i] = err
					no.Store(true)
				default:
					h.keep(c)
					kept.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return int(kept.Load()), no.Load(), errors.Join(errs...)
}

// dial makes one counted attempt.
func (h *slotHold) dial(ctx context.Context) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.connTimeout)
	defer cancel()
	h.count(func(s *HoldStats) { s.Attempts++ })
	c, err := h.srv.dial(ctx)
	if errors.Is(err, errNoSlot) {
		h.count(func(s *HoldStats) { s.Refused++ })
	}
	return c, err
}

// keep holds c and watches it: when the server ends it, its slot is free
// again and a check is asked for.
func (h *slotHold) keep(c net.Conn) {
	h.mu.Lock()
	if h.released {
		h.mu.Unlock()
		h.srv.hangUp(c)
		return
	}
	h.held[c] = struct{}{}
	h.stats.Held++
	h.stats.Peak = max(h.stats.Peak, h.stats.Held)
	h.conns.Add(1)
	h.mu.Unlock()
	go h.watchConn(c)
}

// watchConn reads c until it ends; the hold never sends on it, so its end
// is the server's doing (or release's).
func (h *slotHold) watchConn(c net.Conn) {
	defer h.conns.Done()
	_, _ = io.Copy(io.Discard, c)
	h.mu.Lock()
	_, lost := h.held[c]
	if lost {
		delete(h.held, c)
		h.stats.Held--
		h.stats.Events++
	}
	h.mu.Unlock()
	if lost {
		c.Close()
		h.poke()
	}
}

// settle waits, up to cfg.pendingWait, until the server no longer lists
// the proxied connections that closed since the last check: their slots
// are then free to take.
func (h *slotHold) settle(ctx context.Context) {
	h.mu.Lock()
	addrs := make([]string, 0, len(h.pending))
	for a := range h.pending {
		addrs = append(addrs, a)
	}
	h.mu.Unlock()
	if len(addrs) == 0 {
		return
	}
	defer h.forget(addrs)
	if h.probe == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.pendingWait)
	defer cancel()
	for left := addrs; len(left) > 0 && ctx.Err() == nil; {
		var err error
		if left, err = h.probe.listed(ctx, left); err != nil || len(left) == 0 {
			return
		}
		if !sleepCtx(ctx, settlePause) {
			return
		}
	}
}

func (h *slotHold) forget(addrs []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, a := range addrs {
		delete(h.pending, a)
	}
}

// Admit implements ConnWatch: it waits until a check has completed whose
// last round began after the call.
func (h *slotHold) Admit(ctx context.Context) {
	h.mu.Lock()
	if h.released {
		h.mu.Unlock()
		return
	}
	want, ch := h.rounds+1, h.doneCh
	h.stats.Events++
	h.mu.Unlock()
	h.poke()
	for {
		select {
		case <-ch:
		case <-h.stopped:
			return
		case <-ctx.Done():
			return
		}
		h.mu.Lock()
		if h.done >= want {
			h.mu.Unlock()
			return
		}
		ch = h.doneCh
		h.mu.Unlock()
	}
}

// Answer implements ConnWatch.
func (h *slotHold) Answer(first []byte) ServerAnswer { return h.srv.answer(first) }

// Closed implements ConnWatch: the connection's slot is about to be free.
func (h *slotHold) Closed(upstream string) {
	h.mu.Lock()
	if h.released || upstream == "" {
		h.mu.Unlock()
		return
	}
	h.pending[upstream] = struct{}{}
	h.stats.Events++
	h.mu.Unlock()
	h.poke()
}

// poke asks for a check without blocking.
func (h *slotHold) poke() {
	select {
	case h.kick <- struct{}{}:
	default:
	}
}

// waitFirst waits for the first check (the fill) to complete, until bound.
// complete is false when the bound passed first.
func (h *slotHold) waitFirst(ctx context.Context, bound time.Time) (complete bool, err error) {
	t := time.NewTimer(time.Until(bound))
	defer t.Stop()
	for {
		h.mu.Lock()
		done, ch, err := h.checks, h.doneCh, h.firstErr
		h.mu.Unlock()
		if done >= 1 {
			return true, err
		}
		select {
		case <-ch:
		case <-t.C:
			return false, nil
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
}

// release closes every held connection (and the probe) and waits for their
// watchers. The caller has stopped run.
func (h *slotHold) release() {
	h.mu.Lock()
	if h.released {
		h.mu.Unlock()
		return
	}
	h.released = true
	close(h.stopped)
	conns := h.held
	h.held = nil
	h.stats.Held = 0
	h.mu.Unlock()
	var wg sync.WaitGroup
	for c := range conns {
		wg.Go(func() { h.srv.hangUp(c) })
	}
	wg.Wait()
	if h.probe != nil {
		h.probe.close()
		h.probe = nil
	}
	h.conns.Wait()
}

// count applies f to the stats (nil: none) and returns a copy.
func (h *slotHold) count(f func(*HoldStats)) HoldStats {
	h.mu.Lock()
	defer h.mu.Unlock()
	if f != nil {
		f(&h.stats)
	}
	return h.stats
}

// pollUntil calls done every interval until it says so, fails, or ctx ends
// (then the error says what was still not done).
func pollUntil(ctx context.Context, every time.Duration, notDone string, done func() (bool, error)) error {
	for {
		switch ok, err := done(); {
		case err != nil:
			return fmt.Errorf("check released connections: %w", err)
		case ok:
			return nil
		}
		if !sleepCtx(ctx, every) {
			return fmt.Errorf("%s: %w", notDone, ctx.Err())
		}
	}
}

// sleepCtx waits for d or until ctx ends, and reports whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
