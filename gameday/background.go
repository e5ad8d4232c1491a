package gameday

import (
	"context"
	"fmt"
	"net/http"

	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/runner"
)

// background is the file's scenarios running as background load.
type background struct {
	ld     *load.Load
	scale  float64
	cancel context.CancelFunc
	done   chan struct{}
}

// LoadState is the background load as the API shows it.
type LoadState struct {
	Running bool    `json:"running"`
	Scale   float64 `json:"scale"`
	VUs     int64   `json:"vus"`
	Busy    int64   `json:"busy"`
	Started int64   `json:"started"`
	Dropped int64   `json:"dropped"`
}

// StartLoad runs the file's scenarios from now as background load, every
// rate and VU count multiplied by scale (1 when ≤ 0). A running load is
// replaced: that is how the load is adjusted.
func (s *Session) StartLoad(who string, scale float64) error {
	if len(s.exp.Scenarios) == 0 {
		return errStatus(http.StatusBadRequest, "the file has no scenarios: to run as background load")
	}
	if scale <= 0 {
		scale = 1
	}
	s.stopLoad()
	drivers, closeDrivers, err := runner.NewDrivers(s.rec)
	if err != nil {
		return errStatus(http.StatusInternalServerError, "load drivers: %v", err)
	}
	ld, err := load.New(s.scenarios(scale), load.Config{
		Drivers: drivers, Sink: teeSink{s.rec, s.prom}, Seed: s.env.Seed(), Clock: s.clock, Logger: s.log,
	})
	if err != nil {
		closeDrivers()
		return errStatus(http.StatusBadRequest, "load: %v", err)
	}
	ctx, cancel := context.WithCancel(s.ctx)
	bg := &background{ld: ld, scale: scale, cancel: cancel, done: make(chan struct{})}
	s.mu.Lock()
	s.bg = bg
	s.mu.Unlock()
	s.wg.Go(func() {
		defer close(bg.done)
		defer closeDrivers()
		if err := ld.Run(ctx); err != nil && ctx.Err() == nil {
			s.event("error", "background load: "+err.Error())
		}
	})
	s.auditf(who, "start-load", "", "", map[string]any{"scale": scale})
	s.event("load", fmt.Sprintf("background load started by %s at ×%g", who, scale))
	return nil
}

// scenarios are the file's scenarios starting now, scaled, and stretched to
// Config.LoadDuration.
func (s *Session) scenarios(scale float64) []load.Scenario {
	now := s.Now()
	out := make([]load.Scenario, len(s.exp.Scenarios))
	for i, sc := range s.exp.Scenarios {
		sc.StartTime += now
		if s.cfg.LoadDuration > 0 && (sc.Executor == load.ConstantVUs || sc.Executor == load.ConstantArrivalRate) {
			sc.Duration = s.cfg.LoadDuration
		}
		sc.VUs = scaleInt(sc.VUs, scale)
		sc.PreAllocatedVUs = scaleInt(sc.PreAllocatedVUs, scale)
		sc.MaxVUs = scaleInt(sc.MaxVUs, scale)
		sc.Rate *= scale
		sc.StartRate *= scale
		sc.Stages = append([]load.Stage(nil), sc.Stages...)
		for j := range sc.Stages {
			sc.Stages[j].Target = scaleInt(sc.Stages[j].Target, scale)
		}
		out[i] = sc
	}
	return out
}

func scaleInt(n int, f float64) int {
	if n == 0 {
		return 0
	}
	return max(1, int(float64(n)*f+0.5))
}

// StopLoad stops the background load and waits for it.
func (s *Session) StopLoad(who string) {
	if s.stopLoad() {
		s.auditf(who, "stop-load", "", "", nil)
		s.event("load", "background load stopped by "+who)
	}
}

func (s *Session) stopLoad() bool {
	s.mu.Lock()
	bg := s.bg
	s.bg = nil
	s.mu.Unlock()
	if bg == nil {
		return false
	}
	bg.cancel()
	<-bg.done
	return true
}

// Load returns the background load's state.
func (s *Session) Load() LoadState {
	s.mu.Lock()
	bg := s.bg
	s.mu.Unlock()
	if bg == nil {
		return LoadState{}
	}
	st := bg.ld.Stats()
	running := true
	select {
	case <-bg.done:
		running = false
	default:
	}
	return LoadState{Running: running, Scale: bg.scale, VUs: st.ActiveVUs, Busy: st.BusyVUs, Started: st.Started, Dropped: st.Dropped}
}

// teeSink sends every result to each sink.
type teeSink []load.Sink

func (t teeSink) Record(res *load.Result) {
	for _, x := range t {
		x.Record(res)
	}
}
