package demo

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// newRoutes maps the API onto the handlers.
func (s *Service) newRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/products", s.handleProducts)
	mux.HandleFunc("POST /api/orders", s.handleCreateOrder)
	mux.HandleFunc("GET /api/orders/{id}", s.handleGetOrder)
	mux.HandleFunc("GET /healthz", s.handleHealth)
	s.feed = newFeed(s.logger)
	mux.HandleFunc("GET /ws/feed", s.feed.serve)
	return mux
}

// withDB runs fn against PostgreSQL under the mode's rules.
//
// Graceful: fn gets a context bounded by gracefulDBBudget (and by the
// client giving up), and runs once more when the pool handed out a
// connection that turned out to be broken and a retry is safe: always for
// reads, for writes only when nothing reached the server. A transaction
// PostgreSQL aborted on a conflict (40001, 40P01) is run again, up to
// serializationAttempts times in all (retrySerialization).
//
// Naive: fn gets the service's lifetime context, with no deadline at all.
func (s *Service) withDB(r *http.Request, idempotent bool, fn func(context.Context) error) error {
	if s.mode == ModeNaive {
		return fn(s.life)
	}
	ctx, cancel := context.WithTimeout(r.Context(), gracefulDBBudget)
	defer cancel()
	err := s.retrySerialization(ctx, fn)
	if err == nil || ctx.Err() != nil || !brokenConn(err) {
		return err
	}
	// A connection broke under us. Whatever broke it (a reset, a restart)
	// has most likely broken its idle siblings too: drop them all rather
	// than fail one request per dead connection.
	s.resetPool()
	if idempotent || pgconn.SafeToRetry(err) {
		s.logger.Debug().Err(err).Msg("demo service: broken postgres connection; retrying once")
		err = fn(ctx)
	}
	return err
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

// dbFailed answers a request whose PostgreSQL work failed: graceful mode
// answers 503 with Retry-After when the database is unavailable; anything
// else (and everything in naive mode) is a 500.
func (s *Service) dbFailed(w http.ResponseWriter, op string, err error) {
	s.logger.Debug().Err(err).Str("op", op).Msg("demo service: postgres failed")
	if s.mode == ModeGraceful && unavailable(err) {
		writeUnavailable(w, "database unavailable")
		return
	}
	writeError(w, http.StatusInternalServerError, op+": "+err.Error())
}

// writeUnavailable answers 503 with Retry-After.
func writeUnavailable(w http.ResponseWriter, msg string) {
	w.Header().Set("Retry-After", retryAfter)
	writeError(w, http.StatusServiceUnavailable, msg)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"encode response"}`)
	}
	writeBody(w, status, b)
}

func writeBody(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	_, _ = w.Write(body)
	_, _ = w.Write([]byte("\n"))
}

// ms is a duration in milliseconds with microsecond resolution, for JSON.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
