package faults

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/rs/zerolog"
)

// pgTooManyConnections is SQLSTATE 53300, what PostgreSQL answers when every
// connection slot is taken ("sorry, too many clients already", or "remaining
// connection slots are reserved ..." for a role without the reserved slots).
const pgTooManyConnections = "53300"

// pgExhaustion occupies every free connection slot of a PostgreSQL server by
// opening direct connections (from the target's dsn, bypassing the proxy)
// until the server answers 53300, and holds them until reverted.
//
// A pooled service keeps its open connections, so a full server alone harms
// only new connections; experiments pair it with a reset of the service's
// connections. To win the slots those resets free, the hold keeps topping up
// in the background while applied (unless leaveFree asks to keep slots free).
type pgExhaustion struct {
	name      string
	dsn       string
	leaveFree int
	logger    zerolog.Logger

	// fill and topUp tune the connection attempts; zero values are defaults.
	openers  int
	interval time.Duration
	maxConns int
}

// The defaults of pgExhaustion.
const (
	pgOpeners     = 4                     // parallel connection attempts while filling
	pgTopUpEvery  = 5 * time.Millisecond  // retry interval of the top-up while full
	pgMaxHeld     = 5000                  // safety cap on connections held
	pgConnTimeout = 5 * time.Second       // bound on one connection attempt
	pgFillTimeout = 30 * time.Second      // bound on filling the server
	pgBackoff     = 50 * time.Millisecond // retry interval after an unexpected error
)

func (p *pgExhaustion) Apply(ctx context.Context) (Revert, error) {
	cfg, err := pgconn.ParseConfig(p.dsn)
	if err != nil {
		return nil, fmt.Errorf("pool-exhaustion %q: parse dsn: %w", p.name, err)
	}
	cfg.ConnectTimeout = pgConnTimeout
	cfg.RuntimeParams["application_name"] = "chaosload pool-exhaustion " + p.name
	h := &pgHold{cfg: cfg, max: p.maxConns}
	if h.max == 0 {
		h.max = pgMaxHeld
	}
	fillCtx, cancel := context.WithTimeout(ctx, pgFillTimeout)
	err = h.fill(fillCtx, max(p.openers, 1))
	cancel()
	if err != nil {
		h.release()
		return nil, fmt.Errorf("pool-exhaustion %q: %w", p.name, err)
	}
	h.closeN(p.leaveFree)
	p.logger.Info().Str("fault", p.name).Int("held", h.count()).Msg("postgres connection slots exhausted")

	if p.leaveFree > 0 {
		return h.revert, nil
	}
	topCtx, cancelTop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.topUp(topCtx, p.every()) }()
	return func(ctx context.Context) error {
		cancelTop()
		select {
		case <-done:
		case <-ctx.Done():
			// The top-up is stuck in a connect; it closes what it opens
			// once it returns, so release what is held now.
		}
		return h.revert(ctx)
	}, nil
}

func (p *pgExhaustion) every() time.Duration {
	if p.interval > 0 {
		return p.interval
	}
	return pgTopUpEvery
}

// pgHold is the set of connections held by one pool-exhaustion fault.
type pgHold struct {
	cfg *pgconn.Config
	max int

	mu       sync.Mutex
	conns    []*pgconn.PgConn
	released bool
}

// fill opens connections with n parallel openers until the server refuses
// with 53300. Any other failure is an error: the fault could not be applied.
func (h *pgHold) fill(ctx context.Context, n int) error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	full := make(chan struct{})
	var once sync.Once
	for i := range n {
		wg.Go(func() {
			for ctx.Err() == nil {
				select {
				case <-full:
					return
				default:
				}
				full53300, err := h.openOne(ctx)
				if full53300 || h.count() >= h.max {
					once.Do(func() { close(full) })
					return
				}
				if err != nil {
					errs[i] = err
					once.Do(func() { close(full) })
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("server still accepting connections after %d (%w)", h.count(), ctx.Err())
	}
	return nil
}

// openOne opens one connection and keeps it. It reports whether the server
// refused it for lack of slots.
func (h *pgHold) openOne(ctx context.Context) (bool, error) {
	c, err := pgconn.ConnectConfig(ctx, h.cfg)
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == pgTooManyConnections {
			return true, nil
		}
		return false, fmt.Errorf("connect to %s:%d: %w", h.cfg.Host, h.cfg.Port, err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.released {
		_ = c.Close(context.Background())
		return false, nil
	}
	h.conns = append(h.conns, c)
	return false, nil
}

// topUp keeps taking slots as they free up until ctx is done.
func (h *pgHold) topUp(ctx context.Context, every time.Duration) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		wait := every
		if _, err := h.openOne(ctx); err != nil {
			wait = pgBackoff
		} else if h.count() >= h.max {
			return
		}
		t.Reset(wait)
	}
}

func (h *pgHold) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

// closeN closes n held connections.
func (h *pgHold) closeN(n int) {
	h.mu.Lock()
	n = min(n, len(h.conns))
	closing := h.conns[len(h.conns)-n:]
	h.conns = h.conns[:len(h.conns)-n]
	h.mu.Unlock()
	closeAll(closing)
}

// revert releases every connection and waits until the server no longer
// lists any of them, so the fault's end is when the slots are really free.
func (h *pgHold) revert(ctx context.Context) error {
	h.release()
	return h.waitGone(ctx)
}

// waitGone polls pg_stat_activity until no session of this hold remains.
func (h *pgHold) waitGone(ctx context.Context) error {
	c, err := pgconn.ConnectConfig(ctx, h.cfg)
	if err != nil {
		return fmt.Errorf("check released connections: %w", err)
	}
	defer c.Close(context.Background())
	app := h.cfg.RuntimeParams["application_name"]
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		res := c.ExecParams(ctx, "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()",
			[][]byte{[]byte(app)}, nil, nil, nil).Read()
		if res.Err != nil {
			return fmt.Errorf("check released connections: %w", res.Err)
		}
		if len(res.Rows) == 1 && string(res.Rows[0][0]) == "0" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sessions still open on the server after release: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// release closes every held connection; later opens close at once.
func (h *pgHold) release() {
	h.mu.Lock()
	conns := h.conns
	h.conns, h.released = nil, true
	h.mu.Unlock()
	closeAll(conns)
}

func closeAll(conns []*pgconn.PgConn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, c := range conns {
		_ = c.Close(ctx)
	}
}
