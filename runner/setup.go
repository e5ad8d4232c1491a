package runner

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/proxy"
)

// run is the state of one Run, owned by its goroutine.
type run struct {
	// exp is the run's own copy of the experiment, resolved by setup.
	exp  *config.Experiment
	opts Options
	out  *Outcome

	stack Stack
	vars  map[string]string
	// proxies are the replicas' proxies by name (replicas.go); replicas
	// each target's, in order.
	proxies  map[string]*proxy.Proxy
	replicas map[string][]*replica
	// running marks the targets whose proxies started.
	running map[string]bool
	// selections are the replicas each fault on a target acts on.
	selections map[string]*Selection
	// svc are the file's own services (stack.services).
	svc services

	// loadStart is the load clock's epoch once the load started.
	clockMu   sync.Mutex
	loadStart time.Time

	// proxy goroutines, stopped and waited for by close.
	proxyCtx    context.Context
	stopProxies context.CancelFunc
	proxyWG     sync.WaitGroup

	abortReason string
	m           *measurement
}

// newRun starts the state of a run of exp. The run resolves addresses into
// a copy of exp: the caller's experiment keeps its ${...}, so the same value
// runs again against the proxies of its next run, not this one's.
func newRun(exp *config.Experiment, opts Options) *run {
	exp = exp.Clone()
	seed := exp.Seed
	if seed == 0 {
		seed = randomSeed()
	}
	pctx, stop := context.WithCancel(context.Background())
	return &run{
		exp:  exp,
		opts: opts,
		out: &Outcome{
			SchemaVersion: SchemaVersion, Experiment: exp.Name, File: exp.File, Tags: exp.Tags,
			Description: exp.Description, Seed: seed, StartedAt: time.Now().UTC(),
		},
		vars:        map[string]string{},
		proxies:     map[string]*proxy.Proxy{},
		replicas:    map[string][]*replica{},
		running:     map[string]bool{},
		proxyCtx:    pctx,
		stopProxies: stop,
	}
}

func randomSeed() int64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return int64(binary.LittleEndian.Uint64(b[:]) >> 1)
}

// setup brings up the stack and the proxies and checks every upstream.
//
//	stack backends ──▶ proxies whose replicas are known listen ──▶ demo service or its
//	replicas (via proxies) ──▶ the other proxies listen ──▶ proxies whose upstream is
//	known run ──▶ balancer in front of the replicas' proxies ──▶ the file's services,
//	in order ──▶ resolve ──▶ the other proxies run ──▶ preflight
//
// The file's services start once the proxies in front of their
// dependencies forward: a service that checks its database at start meets
// it through the faults, not a proxy that does not answer yet.
func (r *run) setup(ctx context.Context) error {
	if err := r.startBackends(ctx); err != nil {
		return err
	}
	if err := r.listenTargets(false); err != nil {
		return err
	}
	if err := r.startService(ctx); err != nil {
		return err
	}
	if err := r.listenTargets(true); err != nil {
		return err
	}
	if err := r.startProxies(true); err != nil {
		return err
	}
	if err := r.startBalancer(ctx); err != nil {
		return err
	}
	if err := r.startServices(ctx); err != nil {
		return err
	}
	if err := r.exp.CheckTargetIndexes(r.replicaCount); err != nil {
		return &InfraError{fmt.Errorf("resolve addresses: %w", err)}
	}
	if err := r.exp.Resolve(r.lookup); err != nil {
		return &InfraError{fmt.Errorf("resolve addresses: %w", err)}
	}
	if err := r.startProxies(false); err != nil {
		return err
	}
	return r.preflight(ctx)
}

func (r *run) lookup(name string) (string, bool) {
	v, ok := r.vars[name]
	return v, ok
}

func (r *run) startBackends(ctx context.Context) error {
	s := r.exp.Stack
	if s == nil || s.Name == "" {
		return nil
	}
	if r.opts.Stack == nil {
		return infra("stack %q: this runner has no stack launcher", s.Name)
	}
	st, err := r.opts.Stack(s.Name)
	if err != nil {
		return infra("stack %q: %w", s.Name, err)
	}
	r.stack = st
	pg, rd, err := st.StartBackends(ctx)
	if err != nil {
		return infra("stack %q: start backends: %w", s.Name, err)
	}
	r.vars["stack.postgres"], r.vars["stack.redis"] = pg, rd
	if d, ok := st.(DiskStack); ok && d.PostgresDisk() != "" {
		r.vars["stack.postgres.disk"] = d.PostgresDisk()
	}
	r.out.Stack = &StackInfo{Name: s.Name, Mode: s.Mode, Postgres: pg, Redis: rd}
	return nil
}

// startService starts the stack's service (or its replicas) wired through
// the proxies whose upstream is a stack backend.
func (r *run) startService(ctx context.Context) error {
	if r.stack == nil {
		return nil
	}
	pg := r.viaProxy(r.vars["stack.postgres"])
	rd := r.viaProxy(r.vars["stack.redis"])
	var api string
	var err error
	if rs, ok := r.stack.(ReplicaStack); ok && r.exp.Stack.Replicas > 0 {
		api, err = r.startReplicas(ctx, rs, pg, rd)
	} else {
		api, err = r.stack.StartService(ctx, r.exp.Stack.Mode, pg, rd)
	}
	if err != nil {
		return infra("stack %q: start service: %w", r.exp.Stack.Name, err)
	}
	r.vars["stack.api"] = api
	r.out.Stack.API = api
	r.addStackPIDs()
	if r.exp.Stack.Replicas == 0 {
		r.stackEvent() // with replicas, once the balancer is up
	}
	return nil
}

// addStackPIDs records the stack's processes by role.
func (r *run) addStackPIDs() {
	if lister, ok := r.stack.(ProcessLister); ok {
		r.out.Stack.PIDs = lister.Processes()
	}
}

// stackEvent reports the stack's processes and addresses once it is up:
// "service pid 123 at 127.0.0.1:8080, postgres pid 456 at ..., redis ...";
// with replicas, each (service, service[1], ...) and haproxy first.
func (r *run) stackEvent() {
	if r.opts.OnEvent == nil {
		return
	}
	s := r.out.Stack
	addrs := map[string]string{"service": s.API, "postgres": s.Postgres, "redis": s.Redis}
	roles := []string{"service"}
	for i, a := range s.Replicas {
		role := "service"
		if i > 0 {
			role = fmt.Sprintf("service[%d]", i)
			roles = append(roles, role)
		}
		addrs[role] = a
	}
	if s.Balancer != nil {
		roles, addrs["haproxy"] = append(roles, "haproxy"), s.Balancer.Addr
	}
	var parts []string
	for _, role := range append(roles, "postgres", "redis") {
		part := role
		if pid, ok := s.PIDs[role]; ok {
			part += fmt.Sprintf(" pid %d", pid)
		}
		parts = append(parts, part+" at "+addrs[role])
	}
	r.opts.OnEvent(Event{Kind: "stack-started", Message: strings.Join(parts, ", ")})
}

// viaProxy returns the listen address of the replica proxy whose upstream
// is addr, or addr itself when no bound proxy forwards to it.
func (r *run) viaProxy(addr string) string {
	for _, t := range r.exp.Targets {
		for _, rep := range r.replicas[t.Name] {
			if rep.upstream == addr {
				return rep.p.Addr()
			}
		}
	}
	return addr
}

// startProxies runs the proxies of the targets not running yet: with
// early, those whose upstreams are known already (the file's services are
// not started yet); without, all the rest (the experiment is resolved).
func (r *run) startProxies(early bool) error {
	for _, t := range r.exp.Targets {
		reps := r.replicas[t.Name]
		if r.running[t.Name] || early && slices.ContainsFunc(reps, func(rep *replica) bool { return rep.upstream == "" }) {
			continue
		}
		if err := r.resolveLate(&t); err != nil {
			return err
		}
		r.running[t.Name] = true
		res := TargetResult{Name: t.Name, Protocol: t.Protocol}
		var listens, ups []string
		for _, rep := range reps {
			rep.p.SetUpstream(rep.upstream)
			listens, ups = append(listens, rep.p.Addr()), append(ups, rep.upstream)
			if len(reps) > 1 {
				res.Replicas = append(res.Replicas, ReplicaResult{Name: rep.name, Listen: rep.p.Addr(), Upstream: rep.upstream})
			}
			r.proxyWG.Go(func() {
				if err := rep.p.Run(r.proxyCtx); err != nil {
					r.opts.Logger.Error().Err(err).Str("target", rep.name).Msg("proxy stopped")
				}
			})
		}
		res.Listen, res.Upstream = strings.Join(listens, ","), strings.Join(ups, ",")
		r.out.Targets = append(r.out.Targets, res)
	}
	return nil
}

// preflight dials every upstream once; an unreachable one is named.
func (r *run) preflight(ctx context.Context) error {
	timeout := r.opts.PreflightTimeout
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	var errs []error
	d := net.Dialer{Timeout: timeout}
	for _, t := range r.exp.Targets {
		for _, rep := range r.replicas[t.Name] {
			c, err := d.DialContext(ctx, "tcp", rep.upstream)
			if err != nil {
				errs = append(errs, fmt.Errorf("target %q: upstream %s unreachable: %w", rep.name, rep.upstream, err))
				continue
			}
			_ = c.Close()
		}
	}
	errs = append(errs, r.checkHostFaults(ctx)...)
	if err := errors.Join(errs...); err != nil {
		return &InfraError{fmt.Errorf("preflight: %w", err)}
	}
	return nil
}

// checkHostFaults asks each process and host fault whether it can be
// carried out here (root, a cgroup controller, its process, its path):
// better exit 4 now than a fault that does nothing, or fails, mid-run.
func (r *run) checkHostFaults(ctx context.Context) []error {
	var errs []error
	for i := range r.exp.Faults {
		f := &r.exp.Faults[i].Fault
		if !faults.IsHostKind(f.Kind) {
			continue
		}
		a, err := faults.Bind(f, faults.TargetInfo{Name: f.Target, Process: r.processTarget(f.Target)}, r.opts.Logger)
		if err == nil {
			if c, ok := a.(faults.Checker); ok {
				err = c.Check(ctx)
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("fault %q (%s): %w", f.Name, f.Kind, err))
		}
	}
	return errs
}

// close stops the proxies and the stack; safe to call once at the end of
// every path.
func (r *run) close() {
	r.stopProxies()
	r.proxyWG.Wait()
	for _, p := range r.proxies {
		_ = p.Close() // a proxy that never ran still holds its listener
	}
	for i := range r.out.Targets {
		r.fillTargetStats(&r.out.Targets[i])
	}
	r.stopServices()
	r.recordBalancer()
	if r.stack != nil {
		if err := r.stack.Close(); err != nil {
			r.opts.Logger.Error().Err(err).Msg("stop stack")
		}
	}
}

// fillTargetStats sets what the target's proxies carried: each
// replica's, and their sum.
func (r *run) fillTargetStats(t *TargetResult) {
	t.ProxyCounts = ProxyCounts{}
	for i, rep := range r.replicas[t.Name] {
		s := rep.p.Stats()
		c := CountsOf(s)
		t.add(c)
		t.FastPath = s.FastPath
		if i < len(t.Replicas) {
			t.Replicas[i].ProxyCounts = c
		}
	}
}
