package runner

import (
	"context"
	"sync"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/metrics"
	"github.com/chaosload/chaosload/proxy"
)

// Env is an experiment's environment brought up without running the
// experiment: the bundled stack when the file has `stack:`, a running proxy
// per target and every `${...}` address resolved, exactly as Run sets them up
// before its load starts. The long-running game-day mode (package gameday)
// builds on it; Close tears everything down as Run does on every exit path.
type Env struct {
	r    *run
	once sync.Once
}

// StartEnv brings up exp's stack and proxies and checks every upstream is
// reachable. On error everything started is stopped again. exp is left as
// it is: Experiment returns the copy with every address filled in.
func StartEnv(ctx context.Context, exp *config.Experiment, opts Options) (*Env, error) {
	r := newRun(exp, opts)
	if err := r.setup(ctx); err != nil {
		r.close()
		return nil, err
	}
	return &Env{r: r}, nil
}

// Experiment returns the environment's copy of the experiment, its
// ${targets.NAME} and ${stack.NAME} resolved to the addresses of this
// environment's proxies and stack. It is the Env's: read it, do not change
// it.
func (e *Env) Experiment() *config.Experiment { return e.r.exp }

// Proxies returns the running proxies by name: a target's name for a
// target of one upstream, NAME[i] for replica i of a target of several.
// The proxies stay owned by the Env: Close stops them.
func (e *Env) Proxies() map[string]*proxy.Proxy { return e.r.proxies }

// Seed is the seed the proxies draw toxicity from (the file's, or a drawn one).
func (e *Env) Seed() int64 { return e.r.out.Seed }

// Stack describes the bundled stack, nil when the file has none.
func (e *Env) Stack() *StackInfo { return e.r.out.Stack }

// Close stops the proxies (closing every connection) and the stack. It is
// idempotent.
func (e *Env) Close() { e.once.Do(e.r.close) }

// NewDrivers makes a load driver per protocol, the WebSocket driver recording
// its connects and messages into rec; close releases their connections once
// the load has ended. These are the drivers Run uses.
func NewDrivers(rec *metrics.Recorder) (drivers map[load.Protocol]load.Driver, close func(), err error) {
	return newDrivers(rec)
}
