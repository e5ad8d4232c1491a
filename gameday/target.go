package gameday

import (
	"context"
	"fmt"

	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/proxy"
)

// disabledFault is the name under which a disabled target's down fault is
// injected into its proxy.
const disabledFault = "toxiproxy:disabled"

// target is one proxy of the session with its Toxiproxy-style state: the
// toxics in the order they were added and whether it is enabled. It is
// guarded by the Session's mutex.
type target struct {
	name     string
	protocol string
	dsn      string
	p        *proxy.Proxy
	// stop stops a proxy the session runs itself (made through the API); nil
	// for a file's target, whose proxy the runner.Env runs.
	stop    func()
	enabled bool
	// disable reverts the down fault of a disabled target.
	disable faults.Revert
	toxics  []*toxicState
}

// toxicState is one toxic applied to a target.
type toxicState struct {
	Toxic
	revert faults.Revert
}

// ProxyJSON is a proxy as Toxiproxy's REST API shows it.
type ProxyJSON struct {
	Name     string  `json:"name"`
	Listen   string  `json:"listen"`
	Upstream string  `json:"upstream"`
	Enabled  bool    `json:"enabled"`
	Toxics   []Toxic `json:"toxics"`
}

func (t *target) json() ProxyJSON {
	pj := ProxyJSON{Name: t.name, Listen: t.p.Addr(), Upstream: t.p.Upstream(), Enabled: t.enabled, Toxics: []Toxic{}}
	for _, x := range t.toxics {
		pj.Toxics = append(pj.Toxics, x.Toxic)
	}
	return pj
}

func (t *target) toxic(name string) (int, *toxicState) {
	for i, x := range t.toxics {
		if x.Name == name {
			return i, x
		}
	}
	return -1, nil
}

// injectToxic applies x to the target's proxy. A toxic Toxiproxy's zero
// attributes leave without effect (inert) is listed and injects nothing:
// the proxy, like an experiment file, refuses a latency or delay of 0.
func (t *target) injectToxic(ctx context.Context, x *toxicState) error {
	if x.inert() {
		x.revert = func(context.Context) error { return nil }
		return nil
	}
	rv, err := t.p.Inject(ctx, "toxic:"+x.Name, x.Spec(), float64(x.Toxicity))
	if err != nil {
		return fmt.Errorf("proxy %q: apply toxic %q: %w", t.name, x.Name, err)
	}
	x.revert = rv
	return nil
}

// setEnabled disables (a down fault: listener closed, connections closed) or
// re-enables the target.
func (t *target) setEnabled(ctx context.Context, on bool) error {
	switch {
	case on == t.enabled:
		return nil
	case !on:
		rv, err := t.p.Inject(ctx, disabledFault, faults.DownSpec{}, 1)
		if err != nil {
			return fmt.Errorf("proxy %q: disable: %w", t.name, err)
		}
		t.disable = rv
	default:
		if err := t.disable(ctx); err != nil {
			return fmt.Errorf("proxy %q: enable: %w", t.name, err)
		}
		t.disable = nil
	}
	t.enabled = on
	return nil
}

// revertAll removes every toxic and re-enables the target, returning every
// revert error.
func (t *target) revertAll(ctx context.Context) []error {
	var errs []error
	for i := len(t.toxics) - 1; i >= 0; i-- {
		if err := t.toxics[i].revert(ctx); err != nil {
			errs = append(errs, fmt.Errorf("proxy %q: remove toxic %q: %w", t.name, t.toxics[i].Name, err))
		}
	}
	t.toxics = nil
	if err := t.setEnabled(ctx, true); err != nil {
		errs = append(errs, err)
	}
	return errs
}
