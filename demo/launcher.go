package demo

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/chaosload/chaosload/supervise"
	"github.com/rs/zerolog"
)

// Launcher starts the demo stack in two stages for the experiment runner:
// the backends first, then the service wired to the addresses the runner
// gives (its fault proxies), as a child process of its own. It satisfies
// runner.Stack without importing package runner.
type Launcher struct {
	cfg     StackConfig
	restart supervise.Policy // "" until SetRestart: by mode

	mu       sync.Mutex
	postgres *Postgres
	redis    *Redis
	service  *ServiceProcess
}

// NewLauncher returns a Launcher whose parts use cfg (Mode and the service's
// addresses are set by StartService).
func NewLauncher(cfg StackConfig) *Launcher {
	return &Launcher{cfg: cfg}
}

// StackFactory returns a function making the stack an experiment names
// (only "demo" exists), shaped for runner.Options.Stack.
func StackFactory(logger zerolog.Logger) func(name string) (*Launcher, error) {
	return func(name string) (*Launcher, error) {
		if name != "demo" {
			return nil, fmt.Errorf("unknown stack %q; the bundled stack is \"demo\"", name)
		}
		return NewLauncher(StackConfig{Logger: logger}), nil
	}
}

// StartBackends starts PostgreSQL and Redis and returns their addresses.
func (l *Launcher) StartBackends(ctx context.Context) (postgres, redis string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	pc, rc := l.cfg.Postgres, l.cfg.Redis
	pc.Logger, rc.Logger = l.cfg.Logger, l.cfg.Logger
	if l.postgres, err = StartPostgres(ctx, pc); err != nil {
		return "", "", err
	}
	if l.redis, err = StartRedis(ctx, rc); err != nil {
		return "", "", err
	}
	return l.postgres.Addr(), l.redis.Addr(), nil
}

// StartService starts the shop service in mode against the given
// PostgreSQL and Redis addresses, as a child process, and returns its
// address once it answers.
func (l *Launcher) StartService(ctx context.Context, mode, postgres, redis string) (string, error) {
	m, err := ParseMode(mode)
	if err != nil {
		return "", err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	sc := l.cfg.Service
	sc.Mode, sc.Postgres, sc.Redis, sc.Logger = m, postgres, redis, l.cfg.Logger
	svc, err := StartServiceProcess(ctx, ServiceProcessConfig{Service: sc, Restart: l.restartPolicy(m)})
	if err != nil {
		return "", err
	}
	l.service = svc
	return svc.Addr(), nil
}

// restartPolicy is the service's restart policy: as set, else by mode:
// graceful runs under a supervisor that restarts it on failure, naive is
// started by hand and stays down once it dies.
func (l *Launcher) restartPolicy(m Mode) supervise.Policy {
	switch {
	case l.restart != "":
		return l.restart
	case m == ModeGraceful:
		return supervise.OnFailure
	}
	return supervise.Never
}

// SetRestart sets the restart policy of the service the next
// StartService starts (`stack: {restart: always}`).
func (l *Launcher) SetRestart(policy string) error {
	p, err := supervise.ParsePolicy(policy)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.restart = p
	return nil
}

// SetPostgresDisk puts PostgreSQL's data directory on a filesystem of its
// own of bytes (`stack: {postgresDisk: 64MB}`); call before StartBackends.
func (l *Launcher) SetPostgresDisk(bytes int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cfg.Postgres.Disk = bytes
}

// PostgresDisk is the mount point of PostgreSQL's data filesystem, "" when
// it has none.
func (l *Launcher) PostgresDisk() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.postgres == nil {
		return ""
	}
	return l.postgres.DiskDir()
}

// Supervisor returns the supervisor of a role's process, nil when the
// role has none (only "service" has: PostgreSQL and Redis are not
// restarted).
func (l *Launcher) Supervisor(role string) *supervise.Supervisor {
	l.mu.Lock()
	defer l.mu.Unlock()
	if role != "service" || l.service == nil {
		return nil
	}
	return l.service.Supervisor()
}

// SetAckBeforeCommit turns ServiceConfig.AckBeforeCommit on or off for the
// service the next StartService starts (`stack: {ackBeforeCommit: true}`).
func (l *Launcher) SetAckBeforeCommit(on bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cfg.Service.AckBeforeCommit = on
}

// Processes returns the stack's processes by role, for resource
// monitoring: "service" (the demo service's own process), "postgres" (the
// postmaster; its backends are its children) and "redis" (absent when
// Redis runs in-process).
func (l *Launcher) Processes() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]int{}
	if l.postgres != nil {
		out["postgres"] = l.postgres.PID()
	}
	if l.redis != nil && !l.redis.InProcess() {
		out["redis"] = l.redis.PID()
	}
	if l.service != nil {
		out["service"] = l.service.PID()
	}
	return out
}

// Close stops the service, then Redis and PostgreSQL (by the PIDs started),
// and removes their files. Safe to call more than once.
func (l *Launcher) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var errs []error
	if l.service != nil {
		errs = append(errs, l.service.Close())
		l.service = nil
	}
	if l.redis != nil {
		errs = append(errs, l.redis.Close())
		l.redis = nil
	}
	if l.postgres != nil {
		errs = append(errs, l.postgres.Close())
		l.postgres = nil
	}
	return errors.Join(errs...)
}
