package demo

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Graceful mode's retry of transactions PostgreSQL aborted because they
// conflicted with others (serialization_failure, deadlock_detected): the
// transaction did nothing, so running it again is safe and is what
// PostgreSQL's documentation asks of the application. Five attempts keep a
// 30 % serialization-failure rate below 1 % of requests (0.3^5 ≈ 0.25 %);
// the bound of the work on one connection (gracefulWorkTimeout) bounds
// them all.
const (
	serializationAttempts = 5
	serializationBackoff  = 2 * time.Millisecond // doubled after each attempt: 2, 4, 8, 16 ms
)

// retryable reports a PostgreSQL error that aborted the transaction
// because of a conflict with another one: SQLSTATE 40001
// (serialization_failure) or 40P01 (deadlock_detected).
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// retrySerialization runs fn until it succeeds, fails with an error that
// is not retryable, has run serializationAttempts times, or ctx ends; it
// returns fn's last error.
func (s *Service) retrySerialization(ctx context.Context, fn func(context.Context) error) error {
	backoff := serializationBackoff
	err := fn(ctx)
	for attempt := 1; attempt < serializationAttempts && retryable(err); attempt++ {
		s.logger.Debug().Err(err).Int("attempt", attempt).Msg("demo service: transaction conflict; retrying")
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		backoff *= 2
		err = fn(ctx)
	}
	return err
}
