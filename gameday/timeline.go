package gameday

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/load"
)

// timelineRun is one run of the file's fault timeline, started by the API.
type timelineRun struct {
	tl     *faults.Timeline
	cancel context.CancelFunc
	done   chan struct{}
}

// StartTimeline runs the file's `faults:` timeline from now (each fault at
// its startTime from now). It is refused while a run is in progress.
func (s *Session) StartTimeline(who string) error {
	if len(s.exp.Faults) == 0 {
		return errStatus(http.StatusBadRequest, "the file has no faults: timeline")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tl != nil {
		select {
		case <-s.tl.done:
		default:
			return errStatus(http.StatusConflict, "the timeline is already running")
		}
	}
	tl, err := s.bindTimelineLocked()
	if err != nil {
		return err
	}
	clock := load.Clock{Epoch: time.Now()}
	tl.Now = clock.Now
	ctx, cancel := context.WithCancel(s.ctx)
	run := &timelineRun{tl: tl, cancel: cancel, done: make(chan struct{})}
	s.tl = run
	s.wg.Go(func() {
		defer close(run.done)
		if _, err := tl.Run(ctx); err != nil {
			s.event("error", "timeline: "+err.Error())
		}
		s.event("timeline", "timeline finished")
	})
	s.auditf(who, "start-timeline", "", "", map[string]any{"faults": len(tl.Entries)})
	s.event("timeline", fmt.Sprintf("timeline of %d faults started by %s", len(tl.Entries), who))
	return nil
}

func (s *Session) bindTimelineLocked() (*faults.Timeline, error) {
	tl := &faults.Timeline{RevertTimeout: s.cfg.RevertTimeout, OnEvent: s.timelineEvent}
	for i := range s.exp.Faults {
		f := &s.exp.Faults[i].Fault
		t := s.targets[f.Target]
		if t == nil {
			return nil, errStatus(http.StatusConflict, "fault %q: target %q is gone", f.Name, f.Target)
		}
		a, err := faults.Bind(f, faults.TargetInfo{Name: t.name, Protocol: t.protocol, DSN: t.dsn, Proxy: t.p}, s.log)
		if err != nil {
			return nil, errStatus(http.StatusBadRequest, "%v", err)
		}
		tl.Entries = append(tl.Entries, faults.Entry{Fault: f, Action: a})
	}
	return tl, nil
}

// timelineEvent records the timeline's applies and reverts. It runs on the
// timeline's goroutine and must not be called with s.mu held.
func (s *Session) timelineEvent(ev faults.Event) {
	action, kind := "apply-fault", "fault"
	msg := fmt.Sprintf("%s: %s %s applied by the timeline", ev.Target, ev.Kind, ev.Name)
	switch {
	case ev.ApplyErr != nil:
		kind, msg = "error", fmt.Sprintf("timeline: apply %s: %v", ev.Name, ev.ApplyErr)
	case !ev.Reverting:
		s.prom.injected.WithLabelValues(ev.Target, ev.Kind).Inc()
	case ev.Reverting && ev.RevertErr != nil:
		kind, msg = "error", fmt.Sprintf("timeline: revert %s: %v", ev.Name, ev.RevertErr)
	case ev.Reverting:
		action, kind = "revert-fault", "revert"
		msg = fmt.Sprintf("%s: %s %s reverted by the timeline", ev.Target, ev.Kind, ev.Name)
	}
	s.auditf("timeline", action, ev.Target, ev.Name, map[string]any{"kind": ev.Kind})
	s.event(kind, msg)
	s.faultsChanged()
}

// StopTimeline stops a running timeline; every fault it applied is
// reverted before it returns.
func (s *Session) StopTimeline(who string) {
	s.mu.Lock()
	run := s.tl
	s.mu.Unlock()
	if run == nil {
		return
	}
	select {
	case <-run.done:
		return
	default:
	}
	run.cancel()
	<-run.done
	s.auditf(who, "stop-timeline", "", "", nil)
	s.event("timeline", "timeline stopped by "+who)
}
