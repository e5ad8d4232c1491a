package demo

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// newRoutes maps the API onto the handlers.
func (s *Service) newRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/products", s.handleProducts)
	mux.HandleFunc("POST /api/orders", s.handleCreateOrder)
	mux.HandleFunc("GET /api/orders/{id}", s.handleGetOrder)
	mux.HandleFunc("POST /api/uploads", s.handleUpload)
	mux.HandleFunc("POST /api/login", newLogins(s.mode, LoginIterations, time.Now).serve)
	mux.HandleFunc("GET /healthz", s.handleHealth)
	s.feed = newFeed(s.logger)
	mux.HandleFunc("GET /ws/feed", s.feed.serve)
	return mux
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
