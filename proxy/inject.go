package proxy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chaosload/chaosload/faults"
)

// Inject applies a data-path fault to the proxy and returns the function
// that reverts it; it implements faults.Injector. toxicity in [0, 1] is the
// share of connections affected, drawn per connection (see the package
// documentation). name must be unique among the proxy's active faults;
// several faults of any kinds may be active at once.
//
// Inject and the Revert never wait for any connection's traffic: they
// publish the change, and each live connection takes it up at its next
// chunk boundary (at once if idle); a protocol fault's Revert leaves the
// connections it still owes an answer to finish by themselves (see leave).
// Only kernel loss waits, for nft: Inject to install its table, the Revert
// to remove it, each run bounded by ctx and by 10 s (a Revert whose ctx has
// ended still gets those 10 s, so no table is left behind). The Revert is
// idempotent; a Revert that failed (a down fault whose listener could not
// be bound again, a table nft could not remove) retries when called again.
func (p *Proxy) Inject(ctx context.Context, name string, spec faults.Spec, toxicity float64) (faults.Revert, error) {
	if err := p.checkInject(ctx, name, spec, toxicity); err != nil {
		return nil, fmt.Errorf("proxy %q: inject fault %q: %w", p.cfg.Name, name, err)
	}
	f := newFault(p.cfg.Seed, name, spec, toxicity)
	if err := p.prepare(ctx, f); err != nil {
		return nil, fmt.Errorf("proxy %q: inject fault %q: %w", p.cfg.Name, name, err)
	}
	if err := p.apply(f); err != nil {
		p.unprepare(f)
		return nil, fmt.Errorf("proxy %q: inject fault %q: %w", p.cfg.Name, name, err)
	}
	p.log.Info().Str("fault", name).Str("kind", string(spec.Kind())).Float64("toxicity", toxicity).
		Int64("selected", f.selected.Load()).Msg("fault applied")
	return func(ctx context.Context) error {
		err := p.revert(f)
		return errors.Join(err, p.unprepareCtx(ctx, f))
	}, nil
}

// apply registers f and carries it out, under p.mu.
func (p *Proxy) apply(f *fault) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing {
		return errors.New("the proxy is closed")
	}
	if _, dup := p.active[f.name]; dup {
		return errors.New("a fault of that name is already active")
	}
	p.active[f.name] = f
	p.records[f.name] = f
	switch f.spec.(type) {
	case faults.ResetSpec:
		p.applyReset(f)
	case faults.DownSpec:
		p.applyDown(f)
	case faults.ResetPeerSpec:
		p.applyResetPeer(f)
	case faults.ConnLimitSpec:
		p.applyConnLimit(f)
	case faults.ConnectDelaySpec:
		p.faults.Store(p.faults.Load().with(f))
	case faults.LossSpec:
		if f.nft != nil {
			p.applyKernelLoss(f)
		} else {
			p.applyStage(f)
		}
	default:
		p.applyStage(f)
	}
	return nil
}

// checkInject validates what Inject was given. The rules on the spec's
// values are package faults' (CheckSpec), the same an experiment file
// meets; here is only what the proxy carries out.
func (p *Proxy) checkInject(ctx context.Context, name string, spec faults.Spec, toxicity float64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if name == "" {
		return errors.New("a fault needs a name")
	}
	if err := faults.CheckToxicity(toxicity); err != nil {
		return err
	}
	switch spec.(type) {
	case faults.ResetSpec, faults.DownSpec, faults.LatencySpec, faults.BandwidthSpec, faults.SlowCloseSpec,
		faults.TimeoutSpec, faults.ResetPeerSpec, faults.SlicerSpec, faults.LimitDataSpec, faults.LossSpec,
		faults.ConnLimitSpec, faults.ConnectDelaySpec,
		faults.HTTPErrorSpec, faults.PGErrorSpec, faults.RedisErrorSpec, faults.RequestDelaySpec:
		return faults.CheckSpec(spec)
	case faults.PoolExhaustionSpec:
		return errors.New("pool-exhaustion is not a proxy fault: package faults holds the server's connections itself (faults.Bind)")
	case nil:
		return errors.New("no fault spec given")
	}
	return fmt.Errorf("fault kind %q is not carried out by the proxy", spec.Kind())
}

// revert undoes f. The caller does not hold p.mu. A protocol fault that
// still owes some connections an answer stays on those until they are
// finished (see leave); the revert does not wait for them.
func (p *Proxy) revert(f *fault) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !f.reverted.IsZero() {
		if _, down := f.spec.(faults.DownSpec); down {
			return p.relisten(f)
		}
		return nil
	}
	f.reverted = time.Now()
	if p.active[f.name] == f {
		delete(p.active, f.name)
	}
	close(f.gone)
	finishing := f.leave()
	p.log.Info().Str("fault", f.name).Str("kind", string(f.spec.Kind())).Int("finishing", finishing).
		Msg("fault reverted")
	switch f.spec.(type) {
	case faults.DownSpec:
		p.downs--
		return p.relisten(f)
	case faults.ResetPeerSpec:
		p.revertResetPeer(f)
	case faults.ConnLimitSpec:
		f.gate.openUp()
	}
	switch {
	case finishing > 0: // the links of the others drop it at once
		p.publish(p.faults.Load(), f)
	case f.isStage():
		p.publish(p.faults.Load().without(f), f)
	default:
		p.faults.Store(p.faults.Load().without(f))
	}
	return nil
}

// unlist takes a reverted protocol fault out of the fault set once the
// last connection it was finishing is done with it.
func (p *Proxy) unlist(f *fault) {
	p.mu.Lock()
	p.faults.Store(p.faults.Load().without(f))
	p.mu.Unlock()
}

// applyStage publishes a fault that runs as a stage on links, counts the
// connections it selects and wakes their links. The caller holds p.mu.
func (p *Proxy) applyStage(f *fault) {
	for c := range p.conns {
		if f.selects(c.seq) {
			f.selected.Add(1)
		}
	}
	p.publish(p.faults.Load().with(f), f)
}

// publish installs a new fault set and wakes the links of the connections
// that f selects, in the directions it acts on. The caller holds p.mu.
func (p *Proxy) publish(set *faultSet, f *fault) {
	p.faults.Store(set)
	for c := range p.conns {
		if !f.selects(c.seq) {
			continue
		}
		for dir, on := range f.dirs {
			if on {
				c.notify(dir)
			}
		}
	}
}

// applyReset resets every selected active connection and, by publishing f,
// makes the accept loop reset selected new ones. The caller holds p.mu.
func (p *Proxy) applyReset(f *fault) {
	p.faults.Store(p.faults.Load().with(f))
	for c := range p.conns {
		if f.selects(c.seq) {
			c.close(true)
			f.selected.Add(1)
			f.eff.connsReset.Add(1)
			p.ctr.reset.Add(1)
		}
	}
}

// applyDown closes the listener and every selected active connection. The
// caller holds p.mu.
func (p *Proxy) applyDown(f *fault) {
	p.goDown()
	for c := range p.conns {
		if f.selects(c.seq) {
			c.close(false)
			f.selected.Add(1)
			f.eff.connsReset.Add(1)
		}
	}
}

// relisten brings the listener back after the last down fault. The caller
// holds p.mu.
func (p *Proxy) relisten(f *fault) error {
	if err := p.comeUp(); err != nil {
		p.log.Error().Err(err).Str("fault", f.name).Msg("revert down")
		return fmt.Errorf("proxy %q: revert fault %q: %w", p.cfg.Name, f.name, err)
	}
	return nil
}
