package gameday

import (
	"io"
	"net/http"

	"github.com/chaosload/chaosload/faults"
)

// chaosloadRoutes are chaosload's own endpoints, beside Toxiproxy's:
//
//	GET    /chaosload/state            the dashboard's Snapshot
//	GET    /chaosload/faults           active faults of every source
//	POST   /chaosload/faults           apply a catalogue fault (as in a file; duration optional) → 201
//	DELETE /chaosload/faults/{name}    revert one (a toxic as PROXY/TOXIC, a disabled proxy as PROXY/disabled)
//	POST   /chaosload/revert           revert everything (timeline, faults, toxics, disabled proxies)
//	POST   /chaosload/timeline/start   run the file's fault timeline from now
//	POST   /chaosload/timeline/stop    stop it, reverting its faults
//	GET    /chaosload/load             the background load
//	POST   /chaosload/load/start       start it: {"scale": 1}
//	POST   /chaosload/load/adjust      restart it at another scale: {"scale": 2}
//	POST   /chaosload/load/stop        stop it
//	GET    /chaosload/audit            the audit log
//	GET    /chaosload/events           the event timeline
//	GET    /chaosload/kinds            the fault catalogue's kinds
//	GET    /chaosload/ws               the dashboard's live feed (WebSocket)
func (s *Session) chaosloadRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /chaosload/state", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Snapshot()) })
	mux.HandleFunc("GET /chaosload/faults", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.ActiveFaults()) })
	mux.HandleFunc("POST /chaosload/faults", s.handleApplyFault)
	mux.HandleFunc("DELETE /chaosload/faults/{name...}", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusNoContent, nil, s.RevertFault(r.Context(), who(r), r.PathValue("name")))
	})
	mux.HandleFunc("POST /chaosload/revert", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK, map[string]any{"faults": s.ActiveFaults()}, s.RevertAll(r.Context(), who(r)))
	})
	mux.HandleFunc("POST /chaosload/timeline/start", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusNoContent, nil, s.StartTimeline(who(r)))
	})
	mux.HandleFunc("POST /chaosload/timeline/stop", func(w http.ResponseWriter, r *http.Request) {
		s.StopTimeline(who(r))
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /chaosload/load", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Load()) })
	mux.HandleFunc("POST /chaosload/load/start", s.handleStartLoad)
	mux.HandleFunc("POST /chaosload/load/adjust", s.handleStartLoad)
	mux.HandleFunc("POST /chaosload/load/stop", func(w http.ResponseWriter, r *http.Request) {
		s.StopLoad(who(r))
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /chaosload/audit", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Audit()) })
	mux.HandleFunc("GET /chaosload/events", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Events()) })
	mux.HandleFunc("GET /chaosload/kinds", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, faults.Kinds) })
	mux.HandleFunc("GET /chaosload/ws", s.serveWS)
}

func (s *Session) handleApplyFault(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		writeError(w, errStatus(http.StatusBadRequest, "read body: %v", err))
		return
	}
	f, err := DecodeFault(b)
	if err != nil {
		writeError(w, errStatus(http.StatusBadRequest, "%v", err))
		return
	}
	v, err := s.ApplyFault(r.Context(), who(r), f)
	reply(w, http.StatusCreated, v, err)
}

func (s *Session) handleStartLoad(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Scale float64 `json:"scale"`
	}
	if r.ContentLength != 0 {
		if err := decode(r, &in); err != nil {
			writeError(w, err)
			return
		}
	}
	if err := s.StartLoad(who(r), in.Scale); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.Load())
}
