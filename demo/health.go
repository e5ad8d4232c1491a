package demo

import (
	"context"
	"net/http"
	"time"
)

// healthTimeout bounds each dependency check of /healthz, in both modes.
const healthTimeout = 250 * time.Millisecond

// health is the body of GET /healthz.
type health struct {
	// Status is "ok" when both dependencies answer, else "degraded".
	Status   string    `json:"status"`
	Mode     Mode      `json:"mode"`
	Postgres depHealth `json:"postgres"`
	Redis    depHealth `json:"redis"`
	Pool     poolStat  `json:"pool"`
}

// depHealth is one dependency's check.
type depHealth struct {
	OK        bool    `json:"ok"`
	LatencyMS float64 `json:"latency_ms"`
	Error     string  `json:"error,omitempty"`
}

// poolStat is the PostgreSQL pool's state, and its counters since the
// service started: acquires, the acquires that found the pool empty and
// waited for a connection to be released or opened, and how long those
// waited, summed (pgxpool's EmptyAcquireCount and EmptyAcquireWaitTime).
type poolStat struct {
	Max         int32   `json:"max"`
	Total       int32   `json:"total"`
	Idle        int32   `json:"idle"`
	Acquired    int32   `json:"acquired"`
	Acquires    int64   `json:"acquires"`
	EmptyWaits  int64   `json:"empty_waits"`
	EmptyWaitMS float64 `json:"empty_wait_ms"`
}

// handleHealth serves GET /healthz: always 200 while the service runs (it
// is a liveness check), with each dependency's state in the body. Each
// check is bounded by healthTimeout in both modes.
func (s *Service) handleHealth(w http.ResponseWriter, r *http.Request) {
	h := health{
		Status:   "ok",
		Mode:     s.mode,
		Postgres: check(r.Context(), func(ctx context.Context) error { return pingDB(ctx, s.db) }),
		// A fresh connection, not the client's pool: the naive client has no
		// deadlines, and this reports whether Redis answers at all.
		Redis: check(r.Context(), func(ctx context.Context) error { return ping(ctx, s.rdb.Options().Addr) }),
	}
	if !h.Postgres.OK || !h.Redis.OK {
		h.Status = "degraded"
	}
	st := s.db.Stat()
	h.Pool = poolStat{Max: st.MaxConns(), Total: st.TotalConns(), Idle: st.IdleConns(), Acquired: st.AcquiredConns(),
		Acquires: st.AcquireCount(), EmptyWaits: st.EmptyAcquireCount(), EmptyWaitMS: ms(st.EmptyAcquireWaitTime())}
	writeJSON(w, http.StatusOK, h)
}

func check(ctx context.Context, fn func(context.Context) error) depHealth {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	begin := time.Now()
	err := fn(ctx)
	d := depHealth{OK: err == nil, LatencyMS: ms(time.Since(begin))}
	if err != nil {
		d.Error = err.Error()
	}
	return d
}
