package demo

import (
	"context"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// dbConn is what a request's PostgreSQL work runs on: one connection the
// pool handed out (*pgxpool.Conn).
type dbConn interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Begin(ctx context.Context) (pgx.Tx, error)
}

// dbWork is a request's PostgreSQL work on one connection.
type dbWork func(ctx context.Context, conn dbConn) error

// withDB runs fn on a pooled connection under the mode's rules.
//
// Graceful: the wait for a connection (the pool full, or connecting) is
// bounded by gracefulAcquireWait and by the client giving up; past it the
// request fails (503) without touching PostgreSQL. Once fn has a
// connection, it runs to its end, bounded by PostgreSQL's own
// statement_timeout and, should the server not answer at all, by
// gracefulWorkTimeout — never by the request's remaining time. Cutting a
// statement short from the client closes the connection (pgconn cannot
// tell where the protocol stands); after an outage the pool's first
// connections go to the requests that have waited longest, with the least
// time left, and cutting their work would close every new connection as
// soon as it is used, the pool never settling (see dbwork_test.go).
//
// fn runs once more on another connection when the pool handed out one
// that turned out to be broken and a retry is safe: always for reads, for
// writes only when nothing reached the server. A transaction PostgreSQL
// aborted on a conflict (40001, 40P01) is run again, up to
// serializationAttempts times in all (retrySerialization).
//
// Naive: no bound at all; fn gets the service's lifetime context.
func (s *Service) withDB(r *http.Request, idempotent bool, fn dbWork) error {
	if s.mode == ModeNaive {
		return s.onConn(s.life, fn)
	}
	wait, cancel := context.WithTimeout(r.Context(), gracefulAcquireWait)
	defer cancel()
	err := s.onConn(wait, fn)
	if err == nil || !brokenConn(err) {
		return err
	}
	// A connection broke under us. Whatever broke it (a reset, a restart)
	// has most likely broken its idle siblings too: drop them all rather
	// than fail one request per dead connection.
	s.resetPool()
	if idempotent || pgconn.SafeToRetry(err) {
		s.logger.Debug().Err(err).Msg("demo service: broken postgres connection; retrying once")
		err = s.onConn(wait, fn)
	}
	return err
}

// onConn acquires a connection within wait and runs fn on it: in graceful
// mode under a context of its own (gracefulWorkTimeout, deaf to wait) with
// conflicts retried, in naive mode once, under wait itself (the service's
// lifetime).
func (s *Service) onConn(wait context.Context, fn dbWork) error {
	conn, err := s.db.Acquire(wait)
	if err != nil {
		return err
	}
	defer conn.Release() // a connection fn broke is closed, and the pool drops it
	if s.mode == ModeNaive {
		return fn(wait, conn)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(wait), gracefulWorkTimeout)
	defer cancel()
	return s.retrySerialization(ctx, func(ctx context.Context) error { return fn(ctx, conn) })
}

// resetPool closes every pooled connection (those in use close when
// released), at most once per poolResetEvery.
func (s *Service) resetPool() {
	now := time.Now().UnixNano()
	last := s.lastPoolReset.Load()
	if now-last < int64(poolResetEvery) || !s.lastPoolReset.CompareAndSwap(last, now) {
		return
	}
	s.logger.Info().Msg("demo service: broken postgres connection; resetting the pool")
	s.db.Reset()
}

// neverPing is the graceful pool's ShouldPing: no liveness ping when a
// connection is handed out. pgxpool bounds that ping by the acquiring
// request's deadline, so a request near its end would have a healthy
// connection closed; a connection that broke while idle is caught by
// withDB's retry instead.
func neverPing(context.Context, pgxpool.ShouldPingParams) bool { return false }
