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
	// Addr is host:port of the target's server, for faults that connect to
	// it directly (redis pool exhaustion). Empty: the proxy's upstream, when
	// Proxy has an Upstream() string method (as *proxy.Proxy does).
	Addr string
	// Proxy carries out data-path faults on the target.
	Proxy Injector
	// Process finds the processes of a process fault (kill, pause, the
	// cgroup limits) whose target names a process of the stack.
	Process ProcessTarget
}

// Bind makes the action of fault f on target t. toxicity and seed flow into
// the proxy's per-connection draws. An unknown kind, or a spec CheckSpec
// refuses, is an error.
func Bind(f *Fault, t TargetInfo, logger zerolog.Logger) (Action, error) {
	if _, ok := specs[f.Kind]; !ok {
		return nil, fmt.Errorf("fault %q: unknown fault kind %q; valid kinds: %s", f.Name, f.Kind, kindList())
	}
	spec := f.Spec()
	if IsHostKind(f.Kind) {
		return bindHost(f, spec, t, logger)
	}
	if err := CheckSpec(spec); err != nil {
		return nil, fmt.Errorf("fault %q: %w", f.Name, err)
	}
	switch s := spec.(type) {
	case PoolExhaustionSpec:
		return bindPoolExhaustion(f, s, t, logger)
	default:
		if t.Proxy == nil {
			return nil, fmt.Errorf("fault %q: target %q has no proxy", f.Name, t.Name)
		}
		name, tox := f.Name, f.ToxicityOr1()
		return ActionFunc(func(ctx context.Context) (Revert, error) {
			return t.Proxy.Inject(ctx, name, spec, tox)
		}), nil
	}
}

// bindPoolExhaustion makes the action of a pool-exhaustion fault: on a
// postgres target through its dsn, on a redis target through the proxy's
// upstream address (TargetInfo.Addr when set).
func bindPoolExhaustion(f *Fault, s PoolExhaustionSpec, t TargetInfo, logger zerolog.Logger) (Action, error) {
	a := &poolExhaustion{name: f.Name, spec: s, proxy: t.Proxy, logger: logger}
	switch t.Protocol {
	case "postgres":
		if t.DSN == "" {
			return nil, fmt.Errorf("fault %q: pool-exhaustion needs target %q to have a dsn", f.Name, t.Name)
		}
		a.server = newPGSlots(f.Name, t.DSN, s)
		return a, nil
	case "redis":
		if s.Reserved != nil {
			return nil, fmt.Errorf("fault %q: Redis reserves no connection slots; remove reserved (leaveFree keeps slots free)", f.Name)
		}
		addr := func() string { return t.Addr }
		if up, ok := t.Proxy.(interface{ Upstream() string }); ok && t.Addr == "" {
			addr = up.Upstream // read at Apply: a stack's address is known late
		}
		a.server = newRedisSlots(f.Name, addr, s)
		return a, nil
	}
	return nil, fmt.Errorf("fault %q: pool-exhaustion needs a postgres or redis target; %q is %s", f.Name, t.Name, t.Protocol)
}
