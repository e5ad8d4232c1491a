package runner

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
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

	stack   Stack
	vars    map[string]string
	proxies map[string]*proxy.Proxy
	// running marks the proxies started.
	running map[string]bool
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
//	stack backends ──▶ proxies listen ──▶ demo service (via proxies) ──▶ proxies whose
//	upstream is known run ──▶ the file's services, in order ──▶ resolve ──▶ the other
//	proxies run ──▶ preflight
//
// The file's services start once the proxies in front of their
// dependencies forward: a service that checks its database at start meets
// it through the faults, not a proxy that does not answer yet.
func (r *run) setup(ctx context.Context) error {
	if err := r.startBackends(ctx); err != nil {
		return err
	}
	if err := r.listenProxies(); err != nil {
		return err
	}
	if err := r.startService(ctx); err != nil {
		return err
	}
	r.startProxies(true)
	if err := r.startServices(ctx); err != nil {
		return err
	}
	if err := r.exp.Resolve(r.lookup); err != nil {
		return &InfraError{fmt.Errorf("resolve addresses: %w", err)}
	}
	r.startProxies(false)
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

// listenProxies binds every target's listener, so ${targets.NAME} is known
// before anything connects.
func (r *run) listenProxies() error {
	for _, t := range r.exp.Targets {
		listen, err := config.Expand(t.Listen, r.lookup)
		if err != nil {
			return infra("target %q: listen address: %w", t.Name, err)
		}
		p, err := proxy.Listen(proxy.Config{
			Name: t.Name, Listen: listen, Seed: r.out.Seed, NoSockmap: r.opts.NoSockmap,
			Logger: r.opts.Logger.With().Str("target", t.Name).Logger(),
		})
		if err != nil {
			return infra("target %q: %w", t.Name, err)
		}
		r.proxies[t.Name] = p
		r.vars["targets."+t.Name] = p.Addr()
	}
	return nil
}

// startService starts the stack's service wired through the proxies whose
// upstream is a stack backend.
func (r *run) startService(ctx context.Context) error {
	if r.stack == nil {
		return nil
	}
	pg := r.viaProxy(r.vars["stack.postgres"])
	rd := r.viaProxy(r.vars["stack.redis"])
	api, err := r.stack.StartService(ctx, r.exp.Stack.Mode, pg, rd)
	if err != nil {
		return infra("stack %q: start service: %w", r.exp.Stack.Name, err)
	}
	r.vars["stack.api"] = api
	r.out.Stack.API = api
	if lister, ok := r.stack.(ProcessLister); ok {
		r.out.Stack.PIDs = lister.Processes()
	}
	r.stackEvent()
	return nil
}

// stackEvent reports the stack's processes and addresses once it is up:
// "service pid 123 at 127.0.0.1:8080, postgres pid 456 at ..., redis ...".
func (r *run) stackEvent() {
	if r.opts.OnEvent == nil {
		return
	}
	s := r.out.Stack
	addrs := map[string]string{"service": s.API, "postgres": s.Postgres, "redis": s.Redis}
	var parts []string
	for _, role := range []string{"service", "postgres", "redis"} {
		part := role
		if pid, ok := s.PIDs[role]; ok {
			part += fmt.Sprintf(" pid %d", pid)
		}
		parts = append(parts, part+" at "+addrs[role])
	}
	r.opts.OnEvent(Event{Kind: "stack-started", Message: strings.Join(parts, ", ")})
}

// viaProxy returns the listen address of the target whose upstream is addr,
// or addr itself when no target proxies it.
func (r *run) viaProxy(addr string) string {
	for _, t := range r.exp.Targets {
		if up, err := config.Expand(t.Upstream, r.lookup); err == nil && up == addr {
			return r.proxies[t.Name].Addr()
		}
	}
	return addr
}

// startProxies runs the proxies not running yet: with early, those whose
// upstream can be resolved already (the file's services are not started
// yet); without, all the rest (the experiment is resolved).
func (r *run) startProxies(early bool) {
	for _, t := range r.exp.Targets {
		up := t.Upstream
		if early {
			var err error
			if up, err = config.Expand(t.Upstream, r.lookup); err != nil {
				continue
			}
		}
		if r.running[t.Name] {
			continue
		}
		r.running[t.Name] = true
		p := r.proxies[t.Name]
		p.SetUpstream(up)
		r.out.Targets = append(r.out.Targets, TargetResult{
			Name: t.Name, Protocol: t.Protocol, Listen: p.Addr(), Upstream: up,
		})
		r.proxyWG.Go(func() {
			if err := p.Run(r.proxyCtx); err != nil {
				r.opts.Logger.Error().Err(err).Str("target", t.Name).Msg("proxy stopped")
			}
		})
	}
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
		c, err := d.DialContext(ctx, "tcp", t.Upstream)
		if err != nil {
			errs = append(errs, fmt.Errorf("target %q: upstream %s unreachable: %w", t.Name, t.Upstream, err))
			continue
		}
		_ = c.Close()
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
	for _, t := range r.out.Targets {
		if p := r.proxies[t.Name]; p != nil {
			r.fillTargetStats(p, t.Name)
		}
	}
	r.stopServices()
	if r.stack != nil {
		if err := r.stack.Close(); err != nil {
			r.opts.Logger.Error().Err(err).Msg("stop stack")
		}
	}
}

func (r *run) fillTargetStats(p *proxy.Proxy, name string) {
	s := p.Stats()
	for i := range r.out.Targets {
		t := &r.out.Targets[i]
		if t.Name == name {
			t.Accepted, t.Refused, t.Reset = int64(s.Accepted), int64(s.Refused), int64(s.Reset)
			t.BytesUp, t.BytesDn = int64(s.BytesUp), int64(s.BytesDown)
			t.FastPath = s.FastPath
		}
	}
}
