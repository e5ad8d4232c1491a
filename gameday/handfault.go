package gameday

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/faults"
	"go.yaml.in/yaml/v3"
)

// handFault is a catalogue fault applied through chaosload's own API or the
// dashboard, held until reverted or until its duration ends.
type handFault struct {
	fault   faults.Fault
	who     string
	applied time.Duration
	revert  faults.Revert
	// stop ends the duration timer; nil without a duration.
	stop chan struct{}
}

// FaultView is an active fault as the API and the dashboard show it.
type FaultView struct {
	Name   string `json:"name"`
	Target string `json:"target"`
	Kind   string `json:"kind"`
	// Source is "api" (chaosload's endpoint or the dashboard), "toxic" (the
	// Toxiproxy API), "disabled" (a proxy disabled through it) or
	// "timeline".
	Source string `json:"source"`
	Who    string `json:"who,omitempty"`
	// AppliedS is the session offset of the apply, in seconds.
	AppliedS float64 `json:"applied_s"`
	// UntilS is when a fault with a duration is reverted, 0 when it is held.
	UntilS float64 `json:"until_s,omitempty"`
	Detail string  `json:"detail"`
}

// DecodeFault reads a fault written as in an experiment file's `faults:`
// list, as JSON or YAML (`{"name":"slow","target":"api","kind":"latency",
// "latency":"200ms","duration":"30s"}`), with the experiment decoder
// (config.ParseFault): an unknown key, a wrong type or a bad value is an
// error at its line and column of the body.
func DecodeFault(body []byte) (faults.Fault, error) {
	f, err := config.ParseFault("body", body)
	if err != nil {
		return f, fmt.Errorf("decode fault: %w", err)
	}
	return f, nil
}

// ApplyFault applies a catalogue fault; with a Duration it is reverted when
// the duration ends. startTime is ignored: the fault applies now.
func (s *Session) ApplyFault(ctx context.Context, who string, f faults.Fault) (FaultView, error) {
	f.StartTime = 0
	if ps := f.Validate(); len(ps) > 0 {
		return FaultView{}, errStatus(http.StatusBadRequest, "fault %q: %v", f.Name, ps)
	}
	hf, err := s.applyFault(ctx, who, f)
	if err != nil {
		return FaultView{}, err
	}
	s.prom.injected.WithLabelValues(f.Target, string(f.Kind)).Inc()
	s.auditf(who, "apply-fault", f.Target, f.Name, faultDetail(f))
	s.event("fault", fmt.Sprintf("%s: %s %s applied by %s%s", f.Target, f.Kind, f.Name, who, forDuration(f.Duration)))
	if f.OneShot() {
		s.RevertFault(ctx, who, f.Name) //nolint:errcheck // reverting a one-shot action does nothing that can fail
	}
	s.faultsChanged()
	return hf.view(), nil
}

func (s *Session) applyFault(ctx context.Context, who string, f faults.Fault) (*handFault, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults[f.Name] != nil {
		return nil, errStatus(http.StatusConflict, "fault %q is already active", f.Name)
	}
	t := s.targets[f.Target]
	if t == nil {
		return nil, errStatus(http.StatusNotFound, "fault %q: unknown target %q (targets: %v)", f.Name, f.Target, s.targetNamesLocked())
	}
	named := f
	named.Name = "fault:" + f.Name
	action, err := faults.Bind(&named, faults.TargetInfo{Name: t.name, Protocol: t.protocol, DSN: t.dsn, Proxy: t.p}, s.log)
	if err != nil {
		return nil, errStatus(http.StatusBadRequest, "%v", err)
	}
	rv, err := action.Apply(ctx)
	if err != nil {
		return nil, errStatus(http.StatusInternalServerError, "apply fault %q: %v", f.Name, err)
	}
	hf := &handFault{fault: f, who: who, applied: s.Now(), revert: rv}
	s.faults[f.Name] = hf
	if f.Duration > 0 && !f.OneShot() {
		hf.stop = make(chan struct{})
		s.wg.Go(func() { s.expire(hf) })
	}
	return hf, nil
}

// expire reverts hf when its duration ends, unless it was reverted first.
func (s *Session) expire(hf *handFault) {
	timer := time.NewTimer(hf.fault.Duration)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-hf.stop:
		return
	case <-s.ctx.Done():
		return // Close reverts it
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.RevertTimeout)
	defer cancel()
	if err := s.RevertFault(ctx, "duration-ended", hf.fault.Name); err != nil {
		s.log.Error().Err(err).Str("fault", hf.fault.Name).Msg("revert at the end of its duration")
	}
}

// RevertFault reverts one active fault by name: a fault applied through
// chaosload's API, or a toxic (named "proxy/toxic").
func (s *Session) RevertFault(ctx context.Context, who, name string) error {
	s.mu.Lock()
	hf := s.faults[name]
	var err error
	if hf != nil {
		err = s.revertFaultLocked(ctx, hf)
	}
	s.mu.Unlock()
	if hf == nil {
		return s.revertToxicByPath(ctx, who, name)
	}
	s.auditf(who, "revert-fault", hf.fault.Target, name, nil)
	if err != nil {
		s.event("error", fmt.Sprintf("revert %s: %v", name, err))
		return errStatus(http.StatusInternalServerError, "%v", err)
	}
	if !hf.fault.OneShot() {
		s.event("revert", fmt.Sprintf("%s: %s %s reverted by %s", hf.fault.Target, hf.fault.Kind, name, who))
	}
	s.faultsChanged()
	return nil
}

// revertToxicByPath removes a toxic named "proxy/toxic", or a proxy's
// disabled state named "proxy/disabled".
func (s *Session) revertToxicByPath(ctx context.Context, who, name string) error {
	for i := range len(name) {
		if name[i] != '/' {
			continue
		}
		p, x := name[:i], name[i+1:]
		if x == "disabled" {
			on := true
			_, err := s.UpdateProxy(ctx, who, p, ProxyInput{Enabled: &on})
			return err
		}
		return s.RemoveToxic(ctx, who, p, x)
	}
	return errStatus(http.StatusNotFound, "no active fault %q", name)
}

// revertFaultLocked reverts hf and forgets it.
func (s *Session) revertFaultLocked(ctx context.Context, hf *handFault) error {
	delete(s.faults, hf.fault.Name)
	if hf.stop != nil {
		close(hf.stop)
	}
	rctx, cancel := context.WithTimeout(ctx, s.cfg.RevertTimeout)
	defer cancel()
	if err := hf.revert(rctx); err != nil {
		return fmt.Errorf("revert fault %q: %w", hf.fault.Name, err)
	}
	return nil
}

func (hf *handFault) view() FaultView {
	v := FaultView{
		Name: hf.fault.Name, Target: hf.fault.Target, Kind: string(hf.fault.Kind), Source: "api",
		Who: hf.who, AppliedS: hf.applied.Seconds(), Detail: fmt.Sprint(faultDetail(hf.fault)),
	}
	if hf.fault.Duration > 0 {
		v.UntilS = (hf.applied + hf.fault.Duration).Seconds()
	}
	return v
}

// ActiveFaults lists every active fault: applied by hand, toxics, disabled
// proxies and the timeline's.
func (s *Session) ActiveFaults() []FaultView {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []FaultView{}
	for _, n := range sortedKeys(s.faults) {
		out = append(out, s.faults[n].view())
	}
	for _, tn := range s.targetNamesLocked() {
		t := s.targets[tn]
		if !t.enabled {
			out = append(out, FaultView{Name: tn + "/disabled", Target: tn, Kind: string(faults.Down), Source: "disabled", Detail: "proxy disabled"})
		}
		for _, x := range t.toxics {
			out = append(out, FaultView{Name: tn + "/" + x.Name, Target: tn, Kind: string(x.kind()), Source: "toxic",
				Detail: fmt.Sprintf("%s %s %v toxicity %v", x.Type, x.Stream, x.Attributes, x.Toxicity)})
		}
	}
	if s.tl != nil {
		for _, n := range s.tl.tl.Active() {
			out = append(out, FaultView{Name: n, Kind: "timeline", Source: "timeline", Detail: "from the file's timeline"})
		}
	}
	return out
}

func faultDetail(f faults.Fault) map[string]any {
	b, _ := yaml.Marshal(f)
	var m map[string]any
	_ = yaml.Unmarshal(b, &m)
	for k, v := range m {
		if v == nil || v == "" || v == 0 || v == "0s" || v == "0B" {
			delete(m, k)
		}
	}
	return m
}

func forDuration(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return " for " + d.String()
}
