package gameday

import (
	"context"
	"fmt"
	"maps"
	"net/http"
)

// ToxicInput is the body of POST /proxies/{name}/toxics and of a toxic
// update. Toxicity is nil when absent: 1 on create (as Toxiproxy), unchanged
// on update.
type ToxicInput struct {
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Stream     string         `json:"stream"`
	Toxicity   *float32       `json:"toxicity"`
	Attributes map[string]any `json:"attributes"`
}

// Toxics returns a proxy's toxics in the order they were added.
func (s *Session) Toxics(proxyName string) ([]Toxic, error) {
	pj, err := s.GetProxy(proxyName)
	return pj.Toxics, err
}

// GetToxic returns one toxic of a proxy.
func (s *Session) GetToxic(proxyName, name string) (Toxic, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.targets[proxyName]
	if t == nil {
		return Toxic{}, errProxyNotFound
	}
	if _, x := t.toxic(name); x != nil {
		return x.Toxic, nil
	}
	return Toxic{}, errToxicNotFound
}

// AddToxic applies a toxic to a proxy (POST /proxies/{name}/toxics).
func (s *Session) AddToxic(ctx context.Context, who, proxyName string, in ToxicInput) (Toxic, error) {
	x := &toxicState{Toxic: Toxic{Name: in.Name, Type: in.Type, Stream: in.Stream, Toxicity: 1, Attributes: in.Attributes}}
	if in.Toxicity != nil {
		x.Toxicity = *in.Toxicity
	}
	if err := x.normalise(); err != nil {
		return Toxic{}, errStatus(http.StatusBadRequest, "%v", err)
	}
	if err := s.addToxic(ctx, proxyName, x); err != nil {
		return Toxic{}, err
	}
	s.prom.injected.WithLabelValues(proxyName, string(x.kind())).Inc()
	s.auditf(who, "add-toxic", proxyName, x.Name, toxicDetail(x.Toxic))
	s.event("fault", fmt.Sprintf("%s: toxic %s (%s %s %v) added by %s", proxyName, x.Name, x.Type, x.Stream, x.Attributes, who))
	s.faultsChanged()
	return x.Toxic, nil
}

func (s *Session) addToxic(ctx context.Context, proxyName string, x *toxicState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.targets[proxyName]
	if t == nil {
		return errProxyNotFound
	}
	if _, old := t.toxic(x.Name); old != nil {
		return errStatus(http.StatusConflict, "toxic already exists")
	}
	if err := t.injectToxic(ctx, x); err != nil {
		return errStatus(http.StatusBadRequest, "%v", err)
	}
	t.toxics = append(t.toxics, x)
	return nil
}

// UpdateToxic changes a toxic's attributes (merged into the current ones)
// and toxicity (POST or PATCH /proxies/{name}/toxics/{toxic}).
func (s *Session) UpdateToxic(ctx context.Context, who, proxyName, name string, in ToxicInput) (Toxic, error) {
	tx, err := s.updateToxic(ctx, proxyName, name, in)
	if err != nil {
		return Toxic{}, err
	}
	s.auditf(who, "update-toxic", proxyName, name, toxicDetail(tx))
	s.event("fault", fmt.Sprintf("%s: toxic %s updated to %v by %s", proxyName, name, tx.Attributes, who))
	s.live.poke()
	return tx, nil
}

func (s *Session) updateToxic(ctx context.Context, proxyName, name string, in ToxicInput) (Toxic, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.targets[proxyName]
	if t == nil {
		return Toxic{}, errProxyNotFound
	}
	_, x := t.toxic(name)
	if x == nil {
		return Toxic{}, errToxicNotFound
	}
	next := &toxicState{Toxic: x.Toxic}
	next.Attributes = maps.Clone(x.Attributes)
	maps.Copy(next.Attributes, in.Attributes)
	if in.Toxicity != nil {
		next.Toxicity = *in.Toxicity
	}
	if err := next.normalise(); err != nil {
		return Toxic{}, errStatus(http.StatusBadRequest, "%v", err)
	}
	if err := x.revert(ctx); err != nil {
		return Toxic{}, errStatus(http.StatusInternalServerError, "%v", err)
	}
	if err := t.injectToxic(ctx, next); err != nil {
		_ = t.injectToxic(ctx, x) // put the old one back
		return Toxic{}, errStatus(http.StatusBadRequest, "%v", err)
	}
	*x = *next
	return x.Toxic, nil
}

// RemoveToxic reverts a toxic (DELETE /proxies/{name}/toxics/{toxic}).
func (s *Session) RemoveToxic(ctx context.Context, who, proxyName, name string) error {
	if err := s.removeToxic(ctx, proxyName, name); err != nil {
		return err
	}
	s.auditf(who, "remove-toxic", proxyName, name, nil)
	s.event("revert", fmt.Sprintf("%s: toxic %s removed by %s", proxyName, name, who))
	s.faultsChanged()
	return nil
}

func (s *Session) removeToxic(ctx context.Context, proxyName, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.targets[proxyName]
	if t == nil {
		return errProxyNotFound
	}
	i, x := t.toxic(name)
	if x == nil {
		return errToxicNotFound
	}
	if err := x.revert(ctx); err != nil {
		return errStatus(http.StatusInternalServerError, "%v", err)
	}
	t.toxics = append(t.toxics[:i], t.toxics[i+1:]...)
	return nil
}

// Reset re-enables every proxy and removes every toxic (POST /reset), as
// Toxiproxy does; faults applied through chaosload's own API and the
// timeline are left alone (RevertAll reverts those too).
func (s *Session) Reset(ctx context.Context, who string) error {
	var errs []error
	s.mu.Lock()
	for _, name := range s.targetNamesLocked() {
		errs = append(errs, s.targets[name].revertAll(ctx)...)
	}
	s.mu.Unlock()
	s.auditf(who, "reset", "", "", nil)
	s.event("revert", "reset by "+who+": every toxic removed, every proxy enabled")
	s.faultsChanged()
	if len(errs) > 0 {
		return errStatus(http.StatusInternalServerError, "%v", errs)
	}
	return nil
}

func toxicDetail(t Toxic) map[string]any {
	return map[string]any{"type": t.Type, "stream": t.Stream, "toxicity": t.Toxicity, "attributes": t.Attributes, "kind": string(t.kind())}
}
