package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"sync/atomic"
	"time"
)

// defaultLoseEvery is ServiceConfig.LoseEvery's default.
const defaultLoseEvery = 10

// ackBeforeCommit wraps the routes so that POST /api/orders loses some of
// the writes it acknowledges (ServiceConfig.AckBeforeCommit): the order is
// inserted as usual, and every loseEvery-th acknowledged one is deleted
// again before the 201 goes out. The client holds an id that no longer
// exists, exactly what a service that acknowledges before a failing commit
// leaves behind; verify must report it lost.
func (s *Service) ackBeforeCommit(next http.Handler, loseEvery int) http.Handler {
	if loseEvery <= 0 {
		loseEvery = defaultLoseEvery
	}
	var acked atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/orders" {
			next.ServeHTTP(w, r)
			return
		}
		buf := &bufferedResponse{header: w.Header(), status: http.StatusOK}
		next.ServeHTTP(buf, r)
		if buf.status == http.StatusCreated && acked.Add(1)%int64(loseEvery) == 0 {
			s.loseOrder(r.Context(), buf.body.Bytes())
		}
		w.WriteHeader(buf.status)
		_, _ = w.Write(buf.body.Bytes())
	})
}

// loseOrder deletes the order whose JSON is body; the client is told it
// was created all the same.
func (s *Service) loseOrder(ctx context.Context, body []byte) {
	var o order
	if err := json.Unmarshal(body, &o); err != nil || o.ID == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if _, err := s.db.Exec(ctx, "DELETE FROM orders WHERE id = $1", o.ID); err != nil {
		s.logger.Debug().Err(err).Int64("order", o.ID).Msg("ack-before-commit: lose order")
	}
}

// bufferedResponse holds a handler's response until the wrapper sends it.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header         { return b.header }
func (b *bufferedResponse) WriteHeader(status int)      { b.status = status }
func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }
