package demo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/chaosload/chaosload/supervise"
	"github.com/rs/zerolog"
)

// StackConfig configures a Stack. The zero value is the documented
// default: graceful mode, and each part's own defaults.
type StackConfig struct {
	// Mode is the service's mode for Start. Default ModeGraceful.
	// (StartService takes the mode the experiment names.)
	Mode Mode
	// Postgres, Redis and Service tune the parts. Service.Mode, .Postgres,
	// .Redis and .Logger are set when the service starts.
	Postgres PostgresConfig
	Redis    RedisConfig
	Service  ServiceConfig
	// Logger is given to every part.
	Logger zerolog.Logger
}

// Addrs are the stack's addresses, host:port each.
type Addrs struct {
	API      string // the shop service's HTTP address (its replicas', joined by commas)
	LB       string // haproxy's frontend in front of the replicas, "" without
	Postgres string // PostgreSQL (database ShopDatabase; roles Superuser and ShopRole)
	Redis    string
}

// Map returns the addresses by the names an experiment uses as
// ${stack.NAME}: "api", "postgres", "redis", and "lb" with a balancer.
func (a Addrs) Map() map[string]string {
	m := map[string]string{"api": a.API, "postgres": a.Postgres, "redis": a.Redis}
	if a.LB != "" {
		m["lb"] = a.LB
	}
	return m
}

// Stack is the demo stack: a throwaway PostgreSQL cluster, a Redis server
// and the shop service as a child process of its own. It starts in two
// stages, the backends (StartBackends) then the service wired to the
// addresses given (StartService): the experiment runner puts its fault
// proxies between them, and Stack satisfies runner.Stack without importing
// package runner. StartStack runs both stages wired directly, as `chaosload
// demo` does. The service's restart policy is the same either way: by its
// mode, unless SetRestart sets it.
type Stack struct {
	cfg     StackConfig
	restart supervise.Policy // "" until SetRestart: by mode

	mu       sync.Mutex
	replicas int // SetReplicas; 0: one service, no balancer
	postgres *Postgres
	redis    *Redis
	services []*ServiceProcess // one per replica, replica 0 first
	lb       *HAProxy
}

// NewStack returns a Stack whose parts use cfg; nothing runs yet.
func NewStack(cfg StackConfig) *Stack {
	return &Stack{cfg: cfg}
}

// StackFactory returns a function making the stack an experiment names
// (only "demo" exists), shaped for runner.Options.Stack.
func StackFactory(logger zerolog.Logger) func(name string) (*Stack, error) {
	return func(name string) (*Stack, error) {
		if name != "demo" {
			return nil, fmt.Errorf("unknown stack %q; the bundled stack is \"demo\"", name)
		}
		return NewStack(StackConfig{Logger: logger}), nil
	}
}

// StartStack starts PostgreSQL, Redis and the service (in cfg.Mode)
// connected directly to them, and returns once all three accept
// connections. ctx bounds the start only; Close stops everything.
func StartStack(ctx context.Context, cfg StackConfig) (*Stack, error) {
	mode, err := ParseMode(string(cfg.Mode))
	if err != nil {
		return nil, fmt.Errorf("start demo stack: %w", err)
	}
	st := NewStack(cfg)
	pg, rd, err := st.StartBackends(ctx)
	if err == nil {
		_, err = st.StartService(ctx, string(mode), pg, rd)
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("start demo stack: %w", err), st.Close())
	}
	return st, nil
}

// StartBackends starts PostgreSQL and Redis and returns their addresses.
func (st *Stack) StartBackends(ctx context.Context) (postgres, redis string, err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	pc, rc := st.cfg.Postgres, st.cfg.Redis
	pc.Logger, rc.Logger = st.cfg.Logger, st.cfg.Logger
	if pc.MaxConnections == 0 && st.replicas > 1 {
		pc.MaxConnections = replicaMaxConnections(st.replicas)
	}
	if st.postgres, err = StartPostgres(ctx, pc); err != nil {
		return "", "", err
	}
	if st.redis, err = StartRedis(ctx, rc); err != nil {
		return "", "", err
	}
	return st.postgres.Addr(), st.redis.Addr(), nil
}

// StartService starts the shop service in mode against the given
// PostgreSQL and Redis addresses, as child processes (one per replica,
// SetReplicas), and returns their addresses joined by commas once each
// answers.
func (st *Stack) StartService(ctx context.Context, mode, postgres, redis string) (string, error) {
	addrs, err := st.StartServices(ctx, mode, postgres, redis)
	return strings.Join(addrs, ","), err
}

// StartServices starts the shop service's replicas (one without
// SetReplicas) in mode against the given PostgreSQL and Redis addresses,
// each a child process of its own, one after the other, and returns their
// addresses, replica 0 first, once each answers.
func (st *Stack) StartServices(ctx context.Context, mode, postgres, redis string) ([]string, error) {
	m, err := ParseMode(mode)
	if err != nil {
		return nil, err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	sc := st.cfg.Service
	sc.Mode, sc.Postgres, sc.Redis, sc.Logger = m, postgres, redis, st.cfg.Logger
	var addrs []string
	for range max(st.replicas, 1) {
		svc, err := StartServiceProcess(ctx, ServiceProcessConfig{Service: sc, Restart: st.restartPolicy(m)})
		if err != nil {
			return nil, err
		}
		st.services = append(st.services, svc)
		addrs = append(addrs, svc.Addr())
	}
	return addrs, nil
}

// restartPolicy is the service's restart policy: as set, else by mode:
// graceful runs under a supervisor that restarts it on failure, naive is
// started by hand and stays down once it dies.
func (st *Stack) restartPolicy(m Mode) supervise.Policy {
	switch {
	case st.restart != "":
		return st.restart
	case m == ModeGraceful:
		return supervise.OnFailure
	}
	return supervise.Never
}

// SetRestart sets the restart policy of the service the next
// StartService starts (`stack: {restart: always}`).
func (st *Stack) SetRestart(policy string) error {
	p, err := supervise.ParsePolicy(policy)
	if err != nil {
		return err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.restart = p
	return nil
}

// SetPostgresDisk puts PostgreSQL's data directory on a filesystem of its
// own of bytes (`stack: {postgresDisk: 64MB}`); call before StartBackends.
func (st *Stack) SetPostgresDisk(bytes int64) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.cfg.Postgres.Disk = bytes
}

// PostgresDisk is the mount point of PostgreSQL's data filesystem, "" when
// it has none.
func (st *Stack) PostgresDisk() string {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.postgres == nil {
		return ""
	}
	return st.postgres.DiskDir()
}

// SetAckBeforeCommit turns ServiceConfig.AckBeforeCommit on or off for the
// service the next StartService starts (`stack: {ackBeforeCommit: true}`).
func (st *Stack) SetAckBeforeCommit(on bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.cfg.Service.AckBeforeCommit = on
}

// Supervisor returns the supervisor of a role's process, nil when the
// role has none (only the service's replicas have, "service" and
// "service[i]": PostgreSQL, Redis and haproxy are not restarted).
func (st *Stack) Supervisor(role string) *supervise.Supervisor {
	st.mu.Lock()
	defer st.mu.Unlock()
	for i, svc := range st.services {
		if replicaRole(i) == role {
			return svc.Supervisor()
		}
	}
	return nil
}

// replicaRole names replica i's process: "service" for the first (the
// demo service of a stack without replicas), "service[i]" for the others.
func replicaRole(i int) string {
	if i == 0 {
		return "service"
	}
	return fmt.Sprintf("service[%d]", i)
}

// Processes returns the stack's processes by role, for resource
// monitoring: "service" (the demo service's own process; replica 0),
// "service[1]" ... (the other replicas), "haproxy" (the balancer in front
// of them), "postgres" (the postmaster; its backends are its children) and
// "redis" (absent when Redis runs in-process).
func (st *Stack) Processes() map[string]int {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := map[string]int{}
	if st.postgres != nil {
		out["postgres"] = st.postgres.PID()
	}
	if st.redis != nil && !st.redis.InProcess() {
		out["redis"] = st.redis.PID()
	}
	for i, svc := range st.services {
		out[replicaRole(i)] = svc.PID()
	}
	if st.lb != nil {
		out["haproxy"] = st.lb.PID()
	}
	return out
}

// Postgres is the stack's PostgreSQL cluster, nil before StartBackends.
func (st *Stack) Postgres() *Postgres {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.postgres
}

// Redis is the stack's Redis server, nil before StartBackends.
func (st *Stack) Redis() *Redis {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.redis
}

// Service is the shop service's process (replica 0's), nil before
// StartService.
func (st *Stack) Service() *ServiceProcess {
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.services) == 0 {
		return nil
	}
	return st.services[0]
}

// Services are the shop service's replicas, replica 0 first; none before
// StartService.
func (st *Stack) Services() []*ServiceProcess {
	st.mu.Lock()
	defer st.mu.Unlock()
	return append([]*ServiceProcess(nil), st.services...)
}

// Addrs returns the stack's addresses (of the parts started).
func (st *Stack) Addrs() Addrs {
	var a Addrs
	if p := st.Postgres(); p != nil {
		a.Postgres = p.Addr()
	}
	if r := st.Redis(); r != nil {
		a.Redis = r.Addr()
	}
	var api []string
	for _, s := range st.Services() {
		api = append(api, s.Addr())
	}
	a.API = strings.Join(api, ",")
	if lb := st.Balancer(); lb != nil {
		a.LB = lb.Addr()
	}
	return a
}

// Done is closed when the service has exited for good (after Close, or
// because it failed and was not restarted); Close reports why. Before
// StartService it is nil: it never fires.
func (st *Stack) Done() <-chan struct{} {
	if s := st.Service(); s != nil {
		return s.Done()
	}
	return nil
}

// Close stops haproxy, then the service's replicas, then Redis, then
// PostgreSQL (by the PIDs started), waits for each and removes their
// files. It is idempotent: each part's Close is, and the parts stay known
// so Done still answers.
func (st *Stack) Close() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	var errs []error
	if st.lb != nil {
		errs = append(errs, st.lb.Close())
	}
	for _, svc := range st.services {
		errs = append(errs, svc.Close())
	}
	if st.redis != nil {
		errs = append(errs, st.redis.Close())
	}
	if st.postgres != nil {
		errs = append(errs, st.postgres.Close())
	}
	return errors.Join(errs...)
}
