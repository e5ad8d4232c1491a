package runner

import "context"

// Stack starts the bundled stack of an experiment's `stack:` section in two
// stages, so the runner can put its proxies between the service and its
// backends: first the backends, then the service wired to the addresses the
// runner gives (a proxy's, or the backend's own). Package demo provides one
// (demo.Stack); runner does not import demo.
type Stack interface {
	// StartBackends starts PostgreSQL and Redis and returns their addresses.
	StartBackends(ctx context.Context) (postgres, redis string, err error)
	// StartService starts the service against the given addresses and
	// returns its own.
	StartService(ctx context.Context, mode, postgres, redis string) (api string, err error)
	// Close stops everything started, by the PIDs it started.
	Close() error
}

// StackFactory makes the stack called name (`stack: {name: demo}`).
type StackFactory func(name string) (Stack, error)

// DiskStack is a Stack whose PostgreSQL data directory can have a
// filesystem of its own (`stack: {postgresDisk: 64MB}`); demo.Stack is
// one.
type DiskStack interface {
	SetPostgresDisk(bytes int64)
	PostgresDisk() string
}

// RestartStack is a Stack whose service's restart policy can be set
// (`stack: {restart: on-failure}`); demo.Stack is one.
type RestartStack interface {
	SetRestart(policy string) error
}
