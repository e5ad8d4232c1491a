package config

import (
	"strings"

	"github.com/chaosload/chaosload/load"
)

// setDefaults fills in every optional field left unset, so the runner reads
// values rather than re-deriving defaults. Defaults of one executor are set
// only on scenarios of that executor (Validate refuses another executor's
// fields). Seed 0 stays 0: the runner draws one.
func (e *Experiment) setDefaults() {
	for i := range e.Targets {
		t := &e.Targets[i]
		t.Listen = or(t.Listen, DefaultListen)
		t.Protocol = or(t.Protocol, DefaultProtocol)
	}
	if e.Stack != nil && e.Stack.Name != "" {
		e.Stack.Mode = or(e.Stack.Mode, StackModes[0])
	}
	for i := range e.Scenarios {
		scenarioDefaults(&e.Scenarios[i])
	}
	e.Recovery = e.recoveryOrDefault()
	if e.Warmup == nil {
		e.Warmup = ptr(DefaultWarmup)
	}
}

// scenarioDefaults fills in the optional fields of one scenario and its
// steps.
func scenarioDefaults(s *load.Scenario) {
	if s.GracefulStop == nil {
		s.GracefulStop = ptr(load.DefaultGracefulStop)
	}
	switch s.Executor {
	case load.ConstantArrivalRate:
		if s.TimeUnit == 0 {
			s.TimeUnit = load.DefaultTimeUnit
		}
		if s.MaxVUs == 0 {
			s.MaxVUs = s.PreAllocatedVUs
		}
	case load.RampingVUs:
		if s.StartVUs == nil {
			s.StartVUs = ptr(load.DefaultStartVUs)
		}
		if s.GracefulRampDown == nil {
			s.GracefulRampDown = ptr(load.DefaultGracefulRampDown)
		}
	}
	for i := range s.Steps {
		stepDefaults(&s.Steps[i])
	}
}

// stepDefaults fills in an HTTP step's method (GET) and timeout, and names
// an unnamed step after its request ("GET /api/products"; a ${...} in the
// path shows as {...}).
func stepDefaults(st *load.Step) {
	h := st.HTTP
	if h == nil {
		return
	}
	h.Method = or(h.Method, "GET")
	if h.Timeout == 0 {
		h.Timeout = load.DefaultHTTPTimeout
	}
	if st.Name == "" && h.URL != "" {
		// without "$": a name is an identifier, never expanded
		st.Name = h.Method + " " + strings.ReplaceAll(urlPath(h.URL), "$", "")
	}
}

// urlPath returns the path and query of a URL that may hold ${...}
// ("http://${targets.api}/api/products" → "/api/products").
func urlPath(u string) string {
	if _, rest, ok := strings.Cut(u, "://"); ok {
		u = rest
	}
	if i := strings.IndexByte(u, '/'); i >= 0 {
		return u[i:]
	}
	return "/"
}

// recoveryOrDefault returns the recovery bounds with defaults for zeros.
func (e *Experiment) recoveryOrDefault() Recovery {
	r := e.Recovery
	if r.Within == 0 {
		r.Within = DefaultWithin
	}
	if r.Hold == 0 {
		r.Hold = DefaultHold
	}
	if r.Window == 0 {
		r.Window = DefaultWindow
	}
	return r
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func ptr[T any](v T) *T { return &v }
