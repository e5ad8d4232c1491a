package demo

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/rs/zerolog"
)

// StackConfig configures StartStack. The zero value is the documented
// default: graceful mode, and each part's own defaults.
type StackConfig struct {
	// Mode is the service's mode. Default ModeGraceful.
	Mode Mode
	// Postgres, Redis and Service tune the parts. Service.Mode, .Postgres,
	// .Redis and .Logger are set by StartStack.
	Postgres PostgresConfig
	Redis    RedisConfig
	Service  ServiceConfig
	// Logger is given to every part.
	Logger zerolog.Logger
}

// Addrs are the stack's addresses, host:port each.
type Addrs struct {
	API      string // the shop service's HTTP address
	Postgres string // PostgreSQL (database ShopDatabase; roles Superuser and ShopRole)
	Redis    string
}

// Map returns the addresses by the names an experiment uses as
// ${stack.NAME}: "api", "postgres", "redis".
func (a Addrs) Map() map[string]string {
	return map[string]string{"api": a.API, "postgres": a.Postgres, "redis": a.Redis}
}

// Stack is the whole demo stack wired directly (no proxies), as `chaosload
// demo` runs it. The runner instead starts the parts itself, with proxies
// between the service and its dependencies.
type Stack struct {
	// Postgres is the stack's PostgreSQL cluster.
	Postgres *Postgres
	// Redis is the stack's Redis server.
	Redis *Redis
	// Service is the shop service's process, running until Close.
	Service *ServiceProcess

	closeOnce sync.Once
	err       error
}

// StartStack starts PostgreSQL, Redis and the service (a child process)
// connected directly to them, and returns once all three accept
// connections. ctx bounds the start only; Close stops everything.
func StartStack(ctx context.Context, cfg StackConfig) (*Stack, error) {
	mode, err := ParseMode(string(cfg.Mode))
	if err != nil {
		return nil, fmt.Errorf("start demo stack: %w", err)
	}
	cfg.Postgres.Logger, cfg.Redis.Logger = cfg.Logger, cfg.Logger
	st := &Stack{}
	if st.Postgres, err = StartPostgres(ctx, cfg.Postgres); err != nil {
		return nil, fmt.Errorf("start demo stack: %w", err)
	}
	if st.Redis, err = StartRedis(ctx, cfg.Redis); err != nil {
		return nil, errors.Join(fmt.Errorf("start demo stack: %w", err), st.Postgres.Close())
	}
	svc := cfg.Service
	svc.Mode, svc.Postgres, svc.Redis, svc.Logger = mode, st.Postgres.Addr(), st.Redis.Addr(), cfg.Logger
	if st.Service, err = StartServiceProcess(ctx, ServiceProcessConfig{Service: svc}); err != nil {
		return nil, errors.Join(fmt.Errorf("start demo stack: %w", err), st.Redis.Close(), st.Postgres.Close())
	}
	return st, nil
}

// Addrs returns the stack's addresses.
func (st *Stack) Addrs() Addrs {
	return Addrs{API: st.Service.Addr(), Postgres: st.Postgres.Addr(), Redis: st.Redis.Addr()}
}

// Done is closed when the service process has exited (after Close, or
// because it failed); Close reports why.
func (st *Stack) Done() <-chan struct{} { return st.Service.Done() }

// Close stops the service, then Redis, then PostgreSQL, and waits for each.
// It is idempotent.
func (st *Stack) Close() error {
	st.closeOnce.Do(func() {
		st.err = errors.Join(st.Service.Close(), st.Redis.Close(), st.Postgres.Close())
	})
	return st.err
}
