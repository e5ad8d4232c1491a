package runner

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/proxy"
)

// A target runs one proxy per upstream, a replica (config: upstreams:).
// A single-upstream target is a target of one replica, whose proxy keeps
// the target's name; replica i of a target of several is called NAME[i].
//
//	${targets.api}     the replicas' listen addresses, joined by commas
//	${targets.api[1]}  replica 1's
//
// A target's listeners are bound once its replicas can be counted: before
// the stack's service starts when its upstreams are known then, else right
// after (the stack's service never needs ${targets.NAME}), and in any case
// before the file's services start. An upstream still unknown then (a
// file's service address) counts as one replica.

// replica is one proxy of a target.
type replica struct {
	// name is the proxy's: the target's, or NAME[i].
	name string
	p    *proxy.Proxy
	// upstream is the resolved address, "" until it is known.
	upstream string
}

// listenTargets binds the listeners of every target not bound yet whose
// replicas can be counted now; with final, of every target.
func (r *run) listenTargets(final bool) error {
	for _, t := range r.exp.Targets {
		if _, bound := r.replicas[t.Name]; bound {
			continue
		}
		ups, known := r.expandUpstreams(&t)
		if !known && !final {
			continue
		}
		if err := r.bindReplicas(&t, ups); err != nil {
			return err
		}
	}
	return nil
}

// expandUpstreams returns the target's upstream addresses, each element of
// its upstreams expanded and split; known is false when an element cannot
// be expanded yet, and ups then has one "" per element.
func (r *run) expandUpstreams(t *config.Target) (ups []string, known bool) {
	list := t.UpstreamList()
	for _, u := range list {
		v, err := config.Expand(u, r.lookup)
		if err != nil {
			return make([]string, len(list)), false
		}
		ups = append(ups, config.SplitAddrs(v)...)
	}
	return ups, true
}

// bindReplicas binds a listener per upstream of t and publishes
// ${targets.NAME} and ${targets.NAME[i]}.
func (r *run) bindReplicas(t *config.Target, ups []string) error {
	if len(ups) == 0 {
		return infra("target %q: no upstream address", t.Name)
	}
	listen, err := r.listenAddr(t)
	if err != nil {
		return err
	}
	if len(ups) > 1 && listen != "" && !strings.HasSuffix(listen, ":0") {
		return infra("target %q: listen %s fixes one port, but the target has %d replicas; leave listen out", t.Name, listen, len(ups))
	}
	// requests are counted where rotation needs them, on the replicas of
	// a target of several: a counted connection forgoes the kernel's fast
	// path
	count := ""
	if len(ups) > 1 {
		count = t.Protocol
	}
	var addrs []string
	for i, up := range ups {
		name := config.ReplicaName(t.Name, i, len(ups))
		p, err := proxy.Listen(proxy.Config{
			Name: name, Listen: listen, Seed: r.out.Seed, NoSockmap: r.opts.NoSockmap,
			CountRequests: count, CheckPath: t.CheckPath,
			Logger: r.opts.Logger.With().Str("target", name).Logger(),
		})
		if err != nil {
			return infra("target %q: %w", name, err)
		}
		r.proxies[name] = p
		r.replicas[t.Name] = append(r.replicas[t.Name], &replica{name: name, p: p, upstream: up})
		r.vars["targets."+t.Name+"["+strconv.Itoa(i)+"]"] = p.Addr()
		addrs = append(addrs, p.Addr())
	}
	r.vars["targets."+t.Name] = strings.Join(addrs, ",")
	return nil
}

// listenAddr is where t's proxies listen: its listen address, or
// ProxyHost on a free port when t keeps the default.
func (r *run) listenAddr(t *config.Target) (string, error) {
	if r.opts.ProxyHost != "" && (t.Listen == "" || t.Listen == config.DefaultListen) {
		return net.JoinHostPort(r.opts.ProxyHost, "0"), nil
	}
	listen, err := config.Expand(t.Listen, r.lookup)
	if err != nil {
		return "", infra("target %q: listen address: %w", t.Name, err)
	}
	return listen, nil
}

// replicaCount is how many replicas target has, 0 when it is not bound.
func (r *run) replicaCount(target string) int { return len(r.replicas[target]) }

// resolveLate fills in the upstreams not known when the target was bound,
// from the resolved experiment; a target whose upstreams now name more
// addresses than it has replicas is an error.
func (r *run) resolveLate(t *config.Target) error {
	reps := r.replicas[t.Name]
	ups, known := r.expandUpstreams(t) // "${stack.api}" is a list once the stack runs
	if !known {
		ups = nil
		for _, u := range t.UpstreamList() {
			ups = append(ups, config.SplitAddrs(u)...)
		}
	}
	if len(ups) != len(reps) {
		return infra("target %q: its upstreams resolved to %d addresses (%s) after its %d %s were bound; "+
			"a list of replicas must be known before the file's services start", t.Name, len(ups), strings.Join(ups, ","), len(reps), plural(len(reps), "proxy", "proxies"))
	}
	for i, rep := range reps {
		if rep.upstream == "" {
			rep.upstream = ups[i]
		}
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// replicaInjector carries a fault out on the replicas it selected: what
// faults.Bind is given as a target's proxy.
type replicaInjector []*replica

// Inject injects the fault into every replica; on a failure it reverts
// those it injected.
func (ri replicaInjector) Inject(ctx context.Context, name string, spec faults.Spec, tox float64) (faults.Revert, error) {
	return ri.each(func(p *proxy.Proxy) (faults.Revert, error) { return p.Inject(ctx, name, spec, tox) })
}

// Watch watches every replica's connections.
func (ri replicaInjector) Watch(name string, spec faults.Spec, w faults.ConnWatch) (faults.Revert, error) {
	return ri.each(func(p *proxy.Proxy) (faults.Revert, error) { return p.Watch(name, spec, w) })
}

// Upstream is the first selected replica's upstream (a redis pool
// exhaustion's server).
func (ri replicaInjector) Upstream() string { return ri[0].p.Upstream() }

func (ri replicaInjector) each(fn func(p *proxy.Proxy) (faults.Revert, error)) (faults.Revert, error) {
	var reverts []faults.Revert
	all := func(ctx context.Context) error {
		var errs []error
		for _, rv := range reverts {
			errs = append(errs, rv(ctx))
		}
		return errors.Join(errs...)
	}
	for _, rep := range ri {
		rv, err := fn(rep.p)
		if err != nil {
			return nil, errors.Join(err, all(context.Background()))
		}
		reverts = append(reverts, rv)
	}
	return all, nil
}

// selectReplicas returns the replicas of t fault i acts on, drawn from the
// seed by its select:, and records the draw for the outcome.
func (r *run) selectReplicas(i int, t *config.Target) (replicaInjector, error) {
	f := &r.exp.Faults[i]
	reps := r.replicas[t.Name]
	idx, err := f.Select.Pick(len(reps), r.out.Seed, f.Name)
	if err != nil {
		return nil, fmt.Errorf("fault %q on target %q: %w", f.Name, t.Name, err)
	}
	sel := Selection{Select: selectText(f.Select), Seeded: f.Select.Draws()}
	var out replicaInjector
	for _, k := range idx {
		out = append(out, reps[k])
		sel.Replicas = append(sel.Replicas, SelectedReplica{Index: k, Name: reps[k].name, Listen: reps[k].p.Addr(), Upstream: reps[k].upstream})
	}
	if r.selections == nil {
		r.selections = map[string]*Selection{}
	}
	r.selections[f.Name] = &sel
	return out, nil
}

func selectText(s *config.Select) string {
	if s == nil {
		return config.SelectAll
	}
	return s.String()
}

// Selection is which replicas of its target a fault acted on.
type Selection struct {
	// Select is the fault's select: as written ("one", "count 2", "all").
	Select string `json:"select"`
	// Seeded is true when the replicas were drawn from the run's seed.
	Seeded   bool              `json:"seeded,omitempty"`
	Replicas []SelectedReplica `json:"replicas"`
}

// SelectedReplica is one replica a fault acted on.
type SelectedReplica struct {
	Index    int    `json:"index"`
	Name     string `json:"name"`
	Listen   string `json:"listen"`
	Upstream string `json:"upstream"`
}

// String renders "api[1] 127.0.0.1:40123, api[2] 127.0.0.1:40124".
func (s *Selection) String() string {
	parts := make([]string, len(s.Replicas))
	for i, rep := range s.Replicas {
		parts[i] = rep.Name + " " + rep.Listen
	}
	return strings.Join(parts, ", ")
}
