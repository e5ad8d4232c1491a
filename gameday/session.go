package gameday

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/metrics"
	"github.com/chaosload/chaosload/proxy"
	"github.com/chaosload/chaosload/runner"
	"github.com/rs/zerolog"
)

// Config tunes a Session. The zero value of each field is its default.
type Config struct {
	// Logger receives the session's logs; the zero value discards them.
	Logger zerolog.Logger
	// NoSockmap keeps the proxies on the copy path (runner.Options.NoSockmap).
	NoSockmap bool
	// Stack makes the bundled stack for a file with `stack:`; nil refuses
	// such a file.
	Stack runner.StackFactory
	// Audit receives the audit log as JSON lines; nil keeps it in memory
	// only (Session.Audit).
	Audit io.Writer
	// Tokens maps each accepted API token to its name (the "who" of the
	// audit log). Empty: no authentication (loopback only; cmd enforces it).
	Tokens map[string]string
	// Version is what GET /version reports.
	Version string
	// LoadDuration stretches every constant-vus and constant-arrival-rate
	// scenario of the background load to this length, so the load runs for
	// the whole game day. Zero keeps the file's durations.
	LoadDuration time.Duration
	// RevertTimeout bounds each revert (default 10s).
	RevertTimeout time.Duration
	// PushEvery is the dashboard's push period (default 1s).
	PushEvery time.Duration
	// Recent is how much of the session the recorder keeps at full
	// resolution (default 1 h); older intervals are merged, exactly, into
	// at most metrics.DefaultMaxPast coarser ones, so a session of any
	// length holds bounded memory.
	Recent time.Duration
}

// DefaultRecent is Config.Recent's default.
const DefaultRecent = time.Hour

// recorderConfig is the recorder of a session: full resolution for the
// recent past, downsampled before.
func recorderConfig(recent time.Duration) metrics.Config {
	return metrics.Config{Keep: metrics.Retention{Recent: cmp.Or(recent, DefaultRecent)}}
}

// Session is one game day: the file's proxies (and stack), the faults applied
// by hand, through the Toxiproxy-compatible API or by the file's timeline,
// the background load, the audit log and the event timeline. Start it with
// Start, serve Handler, and end it with Close, which reverts everything.
type Session struct {
	exp *config.Experiment
	cfg Config
	log zerolog.Logger
	env *runner.Env

	rec   *metrics.Recorder
	clock load.Clock

	mu      sync.Mutex
	targets map[string]*target
	faults  map[string]*handFault
	bg      *background
	tl      *timelineRun

	audit  *auditLog
	events *eventLog
	recov  *recoveryTracker
	live   *hub
	prom   *promMetrics

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed sync.Once
}

// Start brings up exp's stack and proxies (as runner does) and starts the
// session's watcher. It does not start the background load or the timeline:
// the API does (StartLoad, StartTimeline).
func Start(ctx context.Context, exp *config.Experiment, cfg Config) (*Session, error) {
	if cfg.RevertTimeout <= 0 {
		cfg.RevertTimeout = 10 * time.Second
	}
	if cfg.PushEvery <= 0 {
		cfg.PushEvery = time.Second
	}
	env, err := runner.StartEnv(ctx, exp, runner.Options{Logger: cfg.Logger, Stack: cfg.Stack, NoSockmap: cfg.NoSockmap})
	if err != nil {
		return nil, fmt.Errorf("game day %q: bring up targets: %w", exp.Name, err)
	}
	exp = env.Experiment() // its addresses resolved
	sctx, cancel := context.WithCancel(context.Background())
	s := &Session{
		exp: exp, cfg: cfg, log: cfg.Logger, env: env,
		rec:     metrics.NewRecorder(recorderConfig(cfg.Recent)),
		clock:   load.Clock{Epoch: time.Now()},
		targets: map[string]*target{},
		faults:  map[string]*handFault{},
		audit:   newAuditLog(cfg.Audit),
		events:  newEventLog(),
		ctx:     sctx, cancel: cancel,
	}
	s.recov = newRecoveryTracker(s.rec, exp)
	s.live = newHub()
	s.prom = newPromMetrics(s)
	proxies := env.Proxies()
	for _, t := range exp.Targets {
		for _, name := range proxyNames(t.Name, proxies) {
			s.targets[name] = &target{name: name, protocol: t.Protocol, dsn: t.DSN, p: proxies[name], enabled: true}
		}
	}
	s.wg.Go(func() { s.watch(sctx) })
	s.event("session", fmt.Sprintf("game day %q started: %d targets", exp.Name, len(exp.Targets)))
	return s, nil
}

// Now is the offset from the session's start: the time axis of its charts,
// events and recorder.
func (s *Session) Now() time.Duration { return s.clock.Now() }

// Targets returns the target names, sorted.
func (s *Session) Targets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.targetNamesLocked()
}

func (s *Session) targetNamesLocked() []string {
	names := make([]string, 0, len(s.targets))
	for n := range s.targets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Proxy returns the running proxy of target name, nil when there is none.
func (s *Session) Proxy(name string) *proxy.Proxy {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.targets[name]; t != nil {
		return t.p
	}
	return nil
}

// Close ends the game day: it stops the timeline and the background load,
// reverts every fault and toxic, stops the proxies the API made, the file's
// proxies and the stack, and waits for every goroutine. It returns what could
// not be reverted. Close is idempotent.
func (s *Session) Close(ctx context.Context) error {
	var err error
	s.closed.Do(func() {
		err = s.RevertAll(ctx, "shutdown")
		s.StopLoad("shutdown")
		s.cancel()
		s.wg.Wait()
		s.mu.Lock()
		for _, t := range s.targets {
			if t.stop != nil {
				t.stop()
			}
		}
		s.mu.Unlock()
		s.env.Close()
		s.live.closeAll()
		s.event("session", "game day ended; every fault reverted")
	})
	return err
}

// RevertAll stops the timeline (reverting its faults), reverts every fault
// applied by hand, removes every toxic and re-enables every proxy. The
// background load keeps running, so recovery can be watched. who is
// recorded in the audit log.
func (s *Session) RevertAll(ctx context.Context, who string) error {
	s.StopTimeline(who)
	var errs []error
	s.mu.Lock()
	had := s.activeCountLocked() > 0
	for _, name := range sortedKeys(s.faults) {
		errs = append(errs, s.revertFaultLocked(ctx, s.faults[name]))
	}
	for _, name := range s.targetNamesLocked() {
		errs = append(errs, s.targets[name].revertAll(ctx)...)
	}
	s.mu.Unlock()
	s.auditf(who, "revert-all", "", "", nil)
	if had {
		s.faultsChanged()
	}
	err := errors.Join(errs...)
	if err != nil {
		s.event("error", "revert all: "+err.Error())
	}
	return err
}

// activeCountLocked counts every active fault: toxics, disabled targets,
// faults applied by hand and by the timeline.
func (s *Session) activeCountLocked() int {
	n := len(s.faults)
	for _, t := range s.targets {
		n += len(t.toxics)
		if !t.enabled {
			n++
		}
	}
	if s.tl != nil {
		n += len(s.tl.tl.Active())
	}
	return n
}

// faultsChanged is called after any fault change: when nothing is active
// any more, the recovery timer starts.
func (s *Session) faultsChanged() {
	s.mu.Lock()
	n := s.activeCountLocked()
	s.mu.Unlock()
	if n == 0 {
		s.recov.start(s.Now())
	} else {
		s.recov.cancel()
	}
	s.live.poke()
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// proxyNames returns the names of target's proxies: its own, or one per
// replica, NAME[0], NAME[1], ..., for a target of several upstreams.
func proxyNames[P any](target string, proxies map[string]P) []string {
	if _, ok := proxies[target]; ok {
		return []string{target}
	}
	var names []string
	for i := 0; ; i++ {
		name := fmt.Sprintf("%s[%d]", target, i)
		if _, ok := proxies[name]; !ok {
			return names
		}
		names = append(names, name)
	}
}
