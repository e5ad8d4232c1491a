package gameday

import (
	"context"
	"fmt"
	"net/http"

	"github.com/chaosload/chaosload/proxy"
)

// apiError is an error with the HTTP status Toxiproxy's API gives it.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func errStatus(status int, format string, a ...any) error {
	return &apiError{status, fmt.Sprintf(format, a...)}
}

var (
	errProxyNotFound = errStatus(http.StatusNotFound, "proxy not found")
	errToxicNotFound = errStatus(http.StatusNotFound, "toxic not found")
)

// ProxyInput is the body of POST /proxies, /populate entries and proxy
// updates. Enabled is nil when absent (true on create, unchanged on update).
type ProxyInput struct {
	Name     string `json:"name"`
	Listen   string `json:"listen"`
	Upstream string `json:"upstream"`
	Enabled  *bool  `json:"enabled"`
}

// Proxies returns every proxy in Toxiproxy's shape, by name.
func (s *Session) Proxies() map[string]ProxyJSON {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]ProxyJSON, len(s.targets))
	for n, t := range s.targets {
		out[n] = t.json()
	}
	return out
}

// GetProxy returns one proxy in Toxiproxy's shape.
func (s *Session) GetProxy(name string) (ProxyJSON, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.targets[name]
	if t == nil {
		return ProxyJSON{}, errProxyNotFound
	}
	return t.json(), nil
}

// CreateProxy starts a new proxy, run by the session until it is deleted or
// the session ends (POST /proxies).
func (s *Session) CreateProxy(ctx context.Context, who string, in ProxyInput) (ProxyJSON, error) {
	if in.Name == "" {
		return ProxyJSON{}, errStatus(http.StatusBadRequest, "missing required field: name")
	}
	if in.Upstream == "" {
		return ProxyJSON{}, errStatus(http.StatusBadRequest, "missing required field: upstream")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.targets[in.Name] != nil {
		return ProxyJSON{}, errStatus(http.StatusConflict, "proxy already exists")
	}
	t, err := s.runProxyLocked(in.Name, in.Listen, in.Upstream)
	if err != nil {
		return ProxyJSON{}, err
	}
	s.targets[in.Name] = t
	if in.Enabled != nil && !*in.Enabled {
		if err := t.setEnabled(ctx, false); err != nil {
			return ProxyJSON{}, errStatus(http.StatusInternalServerError, "%v", err)
		}
	}
	s.auditf(who, "create-proxy", in.Name, "", map[string]any{"listen": t.p.Addr(), "upstream": in.Upstream})
	s.event("proxy", fmt.Sprintf("proxy %s created: %s → %s", in.Name, t.p.Addr(), in.Upstream))
	return t.json(), nil
}

// runProxyLocked listens and runs a proxy owned by the session.
func (s *Session) runProxyLocked(name, listen, upstream string) (*target, error) {
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	p, err := proxy.Listen(proxy.Config{
		Name: name, Listen: listen, Upstream: upstream, Seed: s.env.Seed(),
		Logger: s.log.With().Str("target", name).Logger(),
	})
	if err != nil {
		return nil, errStatus(http.StatusInternalServerError, "listen on %s: %v", listen, err)
	}
	done := make(chan struct{})
	s.wg.Go(func() {
		defer close(done)
		if err := p.Run(s.ctx); err != nil {
			s.log.Error().Err(err).Str("target", name).Msg("proxy stopped")
		}
	})
	stop := func() { _ = p.Close(); <-done }
	return &target{name: name, protocol: "tcp", p: p, stop: stop, enabled: true}, nil
}

// UpdateProxy changes a proxy's upstream, listen address or enabled state
// (POST or PATCH /proxies/{name}). A new listen address moves the proxy: its
// connections are closed and its toxics applied to the new one.
func (s *Session) UpdateProxy(ctx context.Context, who, name string, in ProxyInput) (ProxyJSON, error) {
	pj, toggled, err := s.updateProxy(ctx, name, in)
	if err != nil {
		return pj, err
	}
	s.auditf(who, "update-proxy", name, "", map[string]any{"listen": in.Listen, "upstream": in.Upstream, "enabled": in.Enabled})
	if toggled {
		verb := "enabled"
		if !pj.Enabled {
			verb = "disabled (down)"
		}
		if !pj.Enabled {
			s.prom.injected.WithLabelValues(name, "down").Inc()
		}
		s.event("fault", fmt.Sprintf("proxy %s %s by %s", name, verb, who))
		s.faultsChanged()
	}
	return pj, nil
}

func (s *Session) updateProxy(ctx context.Context, name string, in ProxyInput) (ProxyJSON, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.targets[name]
	if t == nil {
		return ProxyJSON{}, false, errProxyNotFound
	}
	if in.Upstream != "" && in.Upstream != t.p.Upstream() {
		t.p.SetUpstream(in.Upstream)
	}
	if in.Listen != "" && in.Listen != t.p.Addr() {
		if err := s.moveLocked(ctx, t, in.Listen); err != nil {
			return ProxyJSON{}, false, err
		}
	}
	toggled := in.Enabled != nil && *in.Enabled != t.enabled
	if toggled {
		if err := t.setEnabled(ctx, *in.Enabled); err != nil {
			return ProxyJSON{}, false, errStatus(http.StatusInternalServerError, "%v", err)
		}
	}
	return t.json(), toggled, nil
}

// moveLocked re-creates t's proxy on a new listen address.
func (s *Session) moveLocked(ctx context.Context, t *target, listen string) error {
	nt, err := s.runProxyLocked(t.name, listen, t.p.Upstream())
	if err != nil {
		return err
	}
	for _, x := range t.toxics {
		_ = x.revert(ctx)
	}
	if t.stop != nil {
		t.stop()
	} else {
		_ = t.p.Close()
	}
	t.p, t.stop = nt.p, nt.stop
	wasEnabled := t.enabled
	t.enabled, t.disable = true, nil
	for _, x := range t.toxics {
		if err := t.injectToxic(ctx, x); err != nil {
			return errStatus(http.StatusInternalServerError, "%v", err)
		}
	}
	if !wasEnabled {
		return t.setEnabled(ctx, false)
	}
	return nil
}

// DeleteProxy reverts a proxy's toxics and stops it (DELETE /proxies/{name}).
func (s *Session) DeleteProxy(ctx context.Context, who, name string) error {
	s.mu.Lock()
	t := s.targets[name]
	if t == nil {
		s.mu.Unlock()
		return errProxyNotFound
	}
	t.revertAll(ctx)
	if t.stop != nil {
		t.stop()
	} else {
		_ = t.p.Close()
	}
	delete(s.targets, name)
	s.mu.Unlock()
	s.auditf(who, "delete-proxy", name, "", nil)
	s.event("proxy", "proxy "+name+" deleted")
	s.faultsChanged()
	return nil
}

// Populate creates or updates each proxy (POST /populate).
func (s *Session) Populate(ctx context.Context, who string, ins []ProxyInput) ([]ProxyJSON, error) {
	out := []ProxyJSON{}
	for _, in := range ins {
		var pj ProxyJSON
		var err error
		if _, gerr := s.GetProxy(in.Name); gerr == nil {
			pj, err = s.UpdateProxy(ctx, who, in.Name, in)
		} else {
			pj, err = s.CreateProxy(ctx, who, in)
		}
		if err != nil {
			return out, err
		}
		out = append(out, pj)
	}
	return out, nil
}
