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
	"github.com/chaosload/chaosload/proxy"
)

// run is the state of one Run, owned by its goroutine.
type run struct {
	exp  *config.Experiment
	opts Options
	out  *Outcome

	stack   Stack
	vars    map[string]string
	proxies map[string]*proxy.Proxy

	// proxy goroutines, stopped and waited for by close.
	proxyCtx    context.Context
	stopProxies context.CancelFunc
	proxyWG     sync.WaitGroup

	abortReason string
	m           *measurement
}

func newRun(exp *config.Experiment, opts Options) *run {
	seed := exp.Seed
	if seed == 0 {
		seed = randomSeed()
	}
	pctx, stop := context.WithCancel(context.Background())
	return &run{
		exp:  exp,
		opts: opts,
		out: &Outcome{
			SchemaVersion: SchemaVersion, Experiment: exp.Name, File: exp.File,
			Description: exp.Description, Seed: seed, StartedAt: time.Now().UTC(),
		},
		vars:        map[string]string{},
		proxies:     map[string]*proxy.Proxy{},
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
//	stack backends ──▶ proxies listen ──▶ service (via proxies) ──▶ resolve ──▶ preflight
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
	if err := r.exp.Resolve(r.lookup); err != nil {
		return &InfraError{fmt.Errorf("resolve addresses: %w", err)}
	}
	r.startProxies()
	return r.preflight(ctx)
}

func (r *run) lookup(name string) (string, bool) {
	v, ok := r.vars[name]
	return v, ok
}

func (r *run) startBackends(ctx context.Context) error {
	s := r.exp.Stack
	if s == nil {
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

func (r *run) startProxies() {
	for _, t := range r.exp.Targets {
		p := r.proxies[t.Name]
		p.SetUpstream(t.Upstream)
		r.out.Targets = append(r.out.Targets, TargetResult{
			Name: t.Name, Protocol: t.Protocol, Listen: p.Addr(), Upstream: t.Upstream,
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
	if err := errors.Join(errs...); err != nil {
		return &InfraError{fmt.Errorf("preflight: %w", err)}
	}
	return nil
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
