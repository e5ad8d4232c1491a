package runner

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/supervise"
)

// ServiceInfo is one of the file's services (stack.services) as it ran.
type ServiceInfo struct {
	Name string `json:"name"`
	// PID is its first process; Addr its address (addr:, or its ready
	// check's); Log the file holding its output.
	PID     int    `json:"pid"`
	Addr    string `json:"addr,omitempty"`
	Restart string `json:"restart"`
	Log     string `json:"log"`
	// Exits lists every exit during the run and what followed it.
	Exits []ServiceExit `json:"exits,omitempty"`
	// LogTail is the end of its log when it failed.
	LogTail string `json:"log_tail,omitempty"`
}

// ServiceExit is one exit of a service's process: when (seconds from the
// start of the load; negative before it), how, and the restart that
// followed.
type ServiceExit struct {
	AtS    float64 `json:"at_s"`
	PID    int     `json:"pid"`
	Status string  `json:"status"`
	// NewPID is the process started again (0: none); ReadyAfterS the time
	// from the exit until it was ready (nil: never).
	NewPID      int      `json:"new_pid,omitempty"`
	ReadyAfterS *float64 `json:"ready_after_s,omitempty"`
	// Fault names the kill fault that caused it, "" when nothing did.
	Fault string `json:"fault,omitempty"`
}

// services are the file's services, started in order and stopped in
// reverse.
type services struct {
	mu   sync.Mutex
	sups map[string]*supervise.Supervisor
	// order is the start order; dir holds their logs when no LogDir was
	// given (removed at the end).
	order []string
	dir   string
}

// SupervisedStack is a Stack whose processes run under a supervisor (the
// demo service does), so a kill fault can report the restart.
type SupervisedStack interface {
	Supervisor(role string) *supervise.Supervisor
}

// startServices starts the file's services in order, each expanded with
// what is known so far and ready before the next.
func (r *run) startServices(ctx context.Context) error {
	st := r.exp.Stack
	if st == nil || len(st.Services) == 0 {
		return nil
	}
	r.svc.sups = map[string]*supervise.Supervisor{}
	dir := r.opts.LogDir
	if dir == "" {
		d, err := supervise.MkdirTemp("", "chaosload-services-")
		if err != nil {
			return infra("stack services: %w", err)
		}
		dir, r.svc.dir = d, d
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return infra("stack services: log directory: %w", err)
	}
	if r.out.Stack == nil {
		r.out.Stack = &StackInfo{}
	}
	for i := range st.Services {
		if err := r.startService1(ctx, &st.Services[i], dir); err != nil {
			return err
		}
	}
	return nil
}

// startService1 starts one service.
func (r *run) startService1(ctx context.Context, s *config.Service, dir string) error {
	spec, addr, err := r.serviceSpec(s, dir)
	if err != nil {
		return infra("stack service %q: %w", s.Name, err)
	}
	sup, err := supervise.Supervise(ctx, spec)
	if err != nil {
		return infra("stack service %q: %w", s.Name, err)
	}
	r.svc.mu.Lock()
	r.svc.sups[s.Name] = sup
	r.svc.order = append(r.svc.order, s.Name)
	r.svc.mu.Unlock()
	prefix := "stack.services." + s.Name
	r.vars[prefix+".pid"], r.vars[prefix+".addr"] = strconv.Itoa(sup.PID()), addr
	r.out.Stack.Services = append(r.out.Stack.Services, ServiceInfo{Name: s.Name, PID: sup.PID(), Addr: addr,
		Restart: string(spec.Restart), Log: spec.Command.Log})
	if r.opts.OnEvent != nil {
		r.opts.OnEvent(Event{Kind: "service-started", Fault: s.Name,
			Message: fmt.Sprintf("service %s pid %d ready (log %s)", s.Name, sup.PID(), spec.Command.Log)})
	}
	return nil
}

// serviceSpec turns a service of the file into what the supervisor runs,
// its strings expanded with the variables known now.
func (r *run) serviceSpec(s *config.Service, dir string) (supervise.Spec, string, error) {
	var errs []error
	x := func(v string) string {
		out, err := config.Expand(v, r.lookup)
		errs = append(errs, err)
		return out
	}
	cmd := supervise.Command{Name: "service " + s.Name, Dir: x(s.Dir), Log: filepath.Join(dir, s.Name+".log"),
		Env: os.Environ(), StopGrace: 10 * time.Second}
	if s.Command.Shell != "" {
		cmd.Path, cmd.Args = supervise.Shell(x(s.Command.Shell))
	} else {
		cmd.Path = x(s.Command.Args[0])
		for _, a := range s.Command.Args[1:] {
			cmd.Args = append(cmd.Args, x(a))
		}
	}
	keys := make([]string, 0, len(s.Env))
	for k := range s.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cmd.Env = append(cmd.Env, k+"="+x(s.Env[k]))
	}
	policy, err := supervise.ParsePolicy(s.Restart)
	errs = append(errs, err)
	spec := supervise.Spec{Command: cmd, Restart: policy, Backoff: supervise.Backoff{Initial: s.Backoff},
		OnEvent: func(e supervise.Event) { r.serviceEvent(s.Name, e) }}
	addr := x(s.Addr)
	if rd := s.Ready; rd != nil {
		spec.ReadyTimeout = rd.Timeout
		spec.Ready, addr = readiness(x(rd.HTTP), x(rd.TCP), rd.Log, addr)
	}
	if err := errors.Join(errs...); err != nil {
		return spec, "", err
	}
	if !filepath.IsAbs(cmd.Path) && !strings.Contains(cmd.Path, "/") {
		if _, err := exec.LookPath(cmd.Path); err != nil {
			return spec, "", fmt.Errorf("command %q not found on PATH: install it or give its path", cmd.Path)
		}
	}
	return spec, addr, nil
}

// readiness makes the supervisor's ready check, and the service's address
// when addr is not given: the TCP check's, or the HTTP URL's host:port.
func readiness(httpURL, tcp, logRE, addr string) (func(context.Context, *supervise.Process) error, string) {
	switch {
	case httpURL != "":
		if u, err := url.Parse(httpURL); err == nil && addr == "" {
			addr = u.Host
			if _, _, err := net.SplitHostPort(addr); err != nil {
				addr = net.JoinHostPort(u.Hostname(), map[bool]string{true: "443", false: "80"}[u.Scheme == "https"])
			}
		}
		check := supervise.HTTP(httpURL)
		return func(ctx context.Context, p *supervise.Process) error { return p.WaitReady(ctx, check) }, addr
	case tcp != "":
		if addr == "" {
			addr = tcp
		}
		check := supervise.TCP(tcp)
		return func(ctx context.Context, p *supervise.Process) error { return p.WaitReady(ctx, check) }, addr
	case logRE != "":
		re := regexp.MustCompile(logRE) // validated
		return func(ctx context.Context, p *supervise.Process) error { _, err := p.WaitLog(ctx, re); return err }, addr
	}
	return nil, addr
}

// serviceEvent reports a service's exit, restart and readiness.
func (r *run) serviceEvent(name string, e supervise.Event) {
	r.svc.mu.Lock()
	started := r.svc.sups[name] != nil
	r.svc.mu.Unlock()
	if r.opts.OnEvent == nil || !started { // its first start is reported as service-started
		return
	}
	msg := fmt.Sprintf("service %s pid %d %s", name, e.PID, e.Kind)
	if e.Err != nil {
		msg += " (" + e.Err.Error() + ")"
	}
	if e.Kind == "restarted" {
		msg = fmt.Sprintf("service %s restarted: pid %d after %d", name, e.PID, e.OldPID)
	}
	r.opts.OnEvent(Event{At: r.offset(e.At), Kind: "service-" + e.Kind, Fault: name, Message: msg})
}

// clockStart is when the load started (zero before).
func (r *run) clockStart() time.Time {
	r.clockMu.Lock()
	defer r.clockMu.Unlock()
	return r.loadStart
}

// offset is t on the load's clock (negative before the load started).
func (r *run) offset(t time.Time) time.Duration {
	start := r.clockStart()
	if start.IsZero() {
		return 0
	}
	return t.Sub(start)
}

// processTarget finds the processes of a stack process by name: a service
// of the file, or a role of the demo stack.
func (r *run) processTarget(name string) faults.ProcessTarget {
	return func() ([]int, error) {
		if sup := r.supervisor(name); sup != nil {
			p := sup.Process()
			select {
			case <-p.Done():
				return nil, fmt.Errorf("service %q is not running (pid %d exited: %v)", name, p.PID(), p.ExitErr())
			default:
			}
			return []int{p.PID()}, nil
		}
		if lister, ok := r.stack.(ProcessLister); ok {
			if pid, ok := lister.Processes()[name]; ok {
				return []int{pid}, nil
			}
		}
		return nil, fmt.Errorf("no stack process %q", name)
	}
}

// supervisor is the supervisor of a stack process, nil when it has none.
func (r *run) supervisor(name string) *supervise.Supervisor {
	r.svc.mu.Lock()
	sup := r.svc.sups[name]
	r.svc.mu.Unlock()
	if sup != nil {
		return sup
	}
	if ss, ok := r.stack.(SupervisedStack); ok {
		return ss.Supervisor(name)
	}
	return nil
}

// stopServices stops the file's services in reverse order and removes
// their temporary log directory.
func (r *run) stopServices() {
	r.svc.mu.Lock()
	order, sups := r.svc.order, r.svc.sups
	r.svc.mu.Unlock()
	for i := len(order) - 1; i >= 0; i-- {
		if err := sups[order[i]].Stop(); err != nil {
			r.opts.Logger.Warn().Err(err).Str("service", order[i]).Msg("stop service")
		}
	}
	if r.svc.dir != "" {
		_ = os.RemoveAll(r.svc.dir)
	}
}
