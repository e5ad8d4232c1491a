package faults

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// poolExhaustion is the action of a pool-exhaustion fault: a slotHold on the
// target's server (PostgreSQL through the dsn, Redis at the proxy's
// upstream), watching the target's proxy so that new connections through it
// meet the server's own refusal.
//
// A pooled service keeps its open connections, so a full server alone harms
// only new connections; experiments pair it with a reset of the service's
// connections at the same startTime. Prepare registers the watch before any
// fault due at that instant acts, so the reset's freed slots are taken back
// before the service's reconnects reach the server.
type poolExhaustion struct {
	name   string
	spec   Spec
	server slotServer
	proxy  Injector // nil: no proxy to watch
	logger zerolog.Logger
	cfg    holdConfig

	mu      sync.Mutex
	hold    *slotHold // from Prepare until the revert (an action applies once at a time)
	unwatch Revert
	last    HoldStats // of the last hold, once reverted
}

// Prepare implements Preparer: the hold starts watching the proxy, so new
// connections wait for its first top-up.
func (p *poolExhaustion) Prepare() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.hold != nil {
		return
	}
	p.hold = newSlotHold(p.server, p.cfg, p.logger.With().Str("fault", p.name).Logger())
	if p.proxy == nil {
		return
	}
	unwatch, err := p.proxy.Watch(p.name, p.spec, p.hold)
	if err != nil {
		p.logger.Warn().Err(err).Str("fault", p.name).Msg("pool-exhaustion: watch the proxy")
		return
	}
	p.unwatch = unwatch
}

// Apply takes every free slot and returns once it holds them, or at the
// apply bound (2 s from its start, or once its first connection is made if
// that took longer) with what it has; the top-up goes on.
func (p *poolExhaustion) Apply(ctx context.Context) (Revert, error) {
	p.Prepare()
	p.mu.Lock()
	h := p.hold
	p.mu.Unlock()
	bound := time.Now().Add(h.cfg.applyBound)
	if err := h.start(ctx); err != nil {
		return nil, p.abandon(ctx, h, nil, fmt.Errorf("pool-exhaustion %q: %w", p.name, err))
	}
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() { defer close(done); h.run(runCtx) }()
	stopRun := func() { stop(); <-done }
	complete, err := h.waitFirst(ctx, bound)
	if err != nil {
		return nil, p.abandon(ctx, h, stopRun, fmt.Errorf("pool-exhaustion %q: %w", p.name, err))
	}
	st := h.count(nil)
	ev := p.logger.Info()
	if !complete {
		ev = p.logger.Warn().Dur("bound", h.cfg.applyBound)
	}
	ev.Str("fault", p.name).Str("server", h.srv.String()).Int("held", st.Held).Bool("complete", complete).
		Msg("connection slots exhausted")
	var once sync.Once
	var revertErr error
	return func(ctx context.Context) error {
		once.Do(func() { revertErr = p.abandon(ctx, h, stopRun, nil) })
		return revertErr
	}, nil
}

// abandon ends the watch (new connections no longer wait), stops the
// top-up (stopRun, nil when it never ran), releases the hold and waits until
// the server has the slots back; err is the apply's failure, if any.
func (p *poolExhaustion) abandon(ctx context.Context, h *slotHold, stopRun func(), err error) error {
	p.mu.Lock()
	unwatch := p.unwatch
	p.hold, p.unwatch = nil, nil
	p.mu.Unlock()
	var errs []error
	if unwatch != nil {
		errs = append(errs, unwatch(ctx))
	}
	if stopRun != nil {
		stopRun()
	}
	h.release()
	p.mu.Lock()
	p.last = h.count(nil)
	p.mu.Unlock()
	if err != nil {
		return errors.Join(append([]error{err}, errs...)...)
	}
	errs = append(errs, h.srv.released(ctx))
	return errors.Join(errs...)
}

// HoldStats implements Holder: the current hold's, or the last one's.
func (p *poolExhaustion) HoldStats() HoldStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.hold != nil {
		return p.hold.count(nil)
	}
	return p.last
}
