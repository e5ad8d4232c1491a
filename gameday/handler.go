package gameday

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
)

// Handler serves, on one address: the Toxiproxy-compatible REST API
// (/proxies, /reset, /version, /populate), chaosload's own API under
// /chaosload/, the dashboard at / (its live feed at /chaosload/ws) and
// Prometheus metrics at /metrics. Every route goes through the token and
// Origin checks.
func (s *Session) Handler() http.Handler {
	mux := http.NewServeMux()
	s.toxiproxyRoutes(mux)
	s.chaosloadRoutes(mux)
	mux.Handle("GET /metrics", s.prom.handler())
	mux.Handle("GET /{$}", dashboardHandler())
	mux.Handle("GET /assets/", assetsHandler())
	return s.guard(mux)
}

func (s *Session) toxiproxyRoutes(mux *http.ServeMux) {
	h := func(pattern string, fn http.HandlerFunc) { mux.Handle(pattern, toxiproxyBrowserGuard(fn)) }
	h("GET /version", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"version": s.cfg.Version})
	})
	h("GET /proxies", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Proxies()) })
	h("POST /proxies", s.handleCreateProxy)
	h("POST /populate", s.handlePopulate)
	h("POST /reset", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusNoContent, nil, s.Reset(r.Context(), who(r)))
	})
	h("GET /proxies/{proxy}", func(w http.ResponseWriter, r *http.Request) {
		pj, err := s.GetProxy(r.PathValue("proxy"))
		reply(w, http.StatusOK, pj, err)
	})
	h("POST /proxies/{proxy}", s.handleUpdateProxy)
	h("PATCH /proxies/{proxy}", s.handleUpdateProxy)
	h("DELETE /proxies/{proxy}", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusNoContent, nil, s.DeleteProxy(r.Context(), who(r), r.PathValue("proxy")))
	})
	h("GET /proxies/{proxy}/toxics", func(w http.ResponseWriter, r *http.Request) {
		ts, err := s.Toxics(r.PathValue("proxy"))
		reply(w, http.StatusOK, ts, err)
	})
	h("POST /proxies/{proxy}/toxics", s.handleAddToxic)
	h("GET /proxies/{proxy}/toxics/{toxic}", func(w http.ResponseWriter, r *http.Request) {
		t, err := s.GetToxic(r.PathValue("proxy"), r.PathValue("toxic"))
		reply(w, http.StatusOK, t, err)
	})
	h("POST /proxies/{proxy}/toxics/{toxic}", s.handleUpdateToxic)
	h("PATCH /proxies/{proxy}/toxics/{toxic}", s.handleUpdateToxic)
	h("DELETE /proxies/{proxy}/toxics/{toxic}", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusNoContent, nil, s.RemoveToxic(r.Context(), who(r), r.PathValue("proxy"), r.PathValue("toxic")))
	})
}

func (s *Session) handleCreateProxy(w http.ResponseWriter, r *http.Request) {
	var in ProxyInput
	if err := decode(r, &in); err != nil {
		writeError(w, err)
		return
	}
	pj, err := s.CreateProxy(r.Context(), who(r), in)
	reply(w, http.StatusCreated, pj, err)
}

func (s *Session) handlePopulate(w http.ResponseWriter, r *http.Request) {
	var ins []ProxyInput
	if err := decode(r, &ins); err != nil {
		writeError(w, err)
		return
	}
	out, err := s.Populate(r.Context(), who(r), ins)
	if err != nil {
		st := statusOf(err)
		writeJSON(w, st, map[string]any{"proxies": out, "error": err.Error(), "status": st})
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"proxies": out})
}

func (s *Session) handleUpdateProxy(w http.ResponseWriter, r *http.Request) {
	var in ProxyInput
	if err := decode(r, &in); err != nil {
		writeError(w, err)
		return
	}
	pj, err := s.UpdateProxy(r.Context(), who(r), r.PathValue("proxy"), in)
	reply(w, http.StatusOK, pj, err)
}

func (s *Session) handleAddToxic(w http.ResponseWriter, r *http.Request) {
	var in ToxicInput
	if err := decode(r, &in); err != nil {
		writeError(w, err)
		return
	}
	t, err := s.AddToxic(r.Context(), who(r), r.PathValue("proxy"), in)
	reply(w, http.StatusOK, t, err) // Toxiproxy answers 200, not 201
}

func (s *Session) handleUpdateToxic(w http.ResponseWriter, r *http.Request) {
	var in ToxicInput
	if err := decode(r, &in); err != nil {
		writeError(w, err)
		return
	}
	t, err := s.UpdateToxic(r.Context(), who(r), r.PathValue("proxy"), r.PathValue("toxic"), in)
	reply(w, http.StatusOK, t, err)
}

// maxBody bounds a request body.
const maxBody = 1 << 20

func decode(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return errStatus(http.StatusBadRequest, "read body: %v", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errStatus(http.StatusBadRequest, "bad request body: %v", err)
	}
	return nil
}

func reply(w http.ResponseWriter, status int, v any, err error) {
	switch {
	case err != nil:
		writeError(w, err)
	case status == http.StatusNoContent:
		w.WriteHeader(status)
	default:
		writeJSON(w, status, v)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// writeError answers as Toxiproxy does: {"error":"…","status":N}.
func writeError(w http.ResponseWriter, err error) {
	st := statusOf(err)
	b, _ := json.Marshal(map[string]any{"error": err.Error(), "status": st})
	http.Error(w, string(b), st)
}

func statusOf(err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.status
	}
	return http.StatusInternalServerError
}

func withWho(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, whoKey{}, name)
}

// who is the audited author of a request: its token's name, "dashboard",
// or "api".
func who(r *http.Request) string {
	if n, ok := r.Context().Value(whoKey{}).(string); ok {
		return n
	}
	return "api"
}
