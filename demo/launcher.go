package demo

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/rs/zerolog"
)

// Launcher starts the demo stack in two stages for the experiment runner:
// the backends first, then the service wired to the addresses the runner
// gives (its fault proxies). It satisfies runner.Stack without importing
// package runner.
type Launcher struct {
	cfg StackConfig

	mu       sync.Mutex
	postgres *Postgres
	redis    *Redis
	service  *Service
	stop     context.CancelFunc
	done     chan struct{}
	runErr   error
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
// PostgreSQL and Redis addresses and returns its own address.
func (l *Launcher) StartService(_ context.Context, mode, postgres, redis string) (string, error) {
	m, err := ParseMode(mode)
	if err != nil {
		return "", err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	sc := l.cfg.Service
	sc.Mode, sc.Postgres, sc.Redis, sc.Logger = m, postgres, redis, l.cfg.Logger
	svc, err := NewService(sc)
	if err != nil {
		return "", err
	}
	runCtx, stop := context.WithCancel(context.Background())
	l.service, l.stop, l.done = svc, stop, make(chan struct{})
	go func() {
		defer close(l.done)
		l.runErr = svc.Run(runCtx)
	}()
	return svc.Addr(), nil
}

// Close stops the service, then Redis and PostgreSQL (by the PIDs started),
// and removes their files. Safe to call more than once.
func (l *Launcher) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var errs []error
	if l.stop != nil {
		l.stop()
		<-l.done
		if l.runErr != nil && !errors.Is(l.runErr, context.Canceled) {
			errs = append(errs, l.runErr)
		}
		l.stop = nil
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
