package faults

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"
)

// TargetInfo is what an action needs to know about the target of a fault.
type TargetInfo struct {
	Name     string
	Protocol string
	// DSN connects directly to a postgres target's server.
	DSN string
	// Proxy carries out data-path faults on the target.
	Proxy Injector
}

// Bind makes the action of fault f on target t. toxicity and seed flow into
// the proxy's per-connection draws.
func Bind(f *Fault, t TargetInfo, logger zerolog.Logger) (Action, error) {
	spec := f.Spec()
	switch s := spec.(type) {
	case PoolExhaustionSpec:
		if t.Protocol != "postgres" {
			return nil, fmt.Errorf("fault %q: pool-exhaustion needs a postgres target; %q is %s", f.Name, t.Name, t.Protocol)
		}
		if t.DSN == "" {
			return nil, fmt.Errorf("fault %q: pool-exhaustion needs target %q to have a dsn", f.Name, t.Name)
		}
		return &pgExhaustion{name: f.Name, dsn: t.DSN, leaveFree: s.LeaveFree, logger: logger}, nil
	case LatencySpec, ResetSpec, DownSpec:
		if t.Proxy == nil {
			return nil, fmt.Errorf("fault %q: target %q has no proxy", f.Name, t.Name)
		}
		name, tox := f.Name, f.ToxicityOr1()
		return ActionFunc(func(ctx context.Context) (Revert, error) {
			return t.Proxy.Inject(ctx, name, spec, tox)
		}), nil
	}
	return nil, fmt.Errorf("fault %q: kind %q has no action", f.Name, f.Kind)
}
