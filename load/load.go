package load

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// Config holds what a Load needs beyond its scenarios. Zero values are the
// documented defaults.
type Config struct {
	// Drivers perform the steps, one per protocol; every protocol a step
	// uses must have one.
	Drivers map[Protocol]Driver
	// Sink receives every Result, dropped arrivals included. Required.
	Sink Sink
	// Seed is the source of every random draw (think times, drivers' choices
	// through VU.Rand): the same seed repeats them.
	Seed int64
	// Clock is the run's epoch: offset 0, from which StartTime and every
	// Result time count. Zero: the instant Run is called. An epoch in the
	// future makes Run wait for it (to start workers together); one in the
	// past makes the first arrivals late, and that lateness is measured.
	Clock Clock
	// Logger receives the load's few messages (dropped arrivals).
	Logger zerolog.Logger
	// Health tunes the generator's watch on itself (see Health).
	Health HealthConfig
	// Stall is a test hook that stalls the generator on purpose: when set,
	// the open-model scheduler waits Stall(scenario, i) before handing
	// arrival i of scenario to a VU, as a generator held up by its machine
	// would. Every arrival due meanwhile waits behind it, and each is late
	// by what remains of the stall: lateness the results record as
	// generator lag. nil never stalls; closed-model executors ignore it.
	Stall func(scenario string, arrival int64) time.Duration
	// Segment is the part of the load this process offers in a distributed
	// run (worker Index of Count, see Segment); the zero value is all of it.
	Segment Segment
}

// Load runs scenarios. It is made by New and run once by Run.
type Load struct {
	runs   []*scenarioRun
	ids    atomic.Int64
	health *healthWatch

	mu    sync.Mutex
	clock Clock
	ran   bool
}

// New checks the scenarios and prepares them to run. It returns every
// problem at once; it copies the scenarios, so the caller may reuse them.
func New(scenarios []Scenario, cfg Config) (*Load, error) {
	if cfg.Sink == nil {
		return nil, errors.New("load: Config.Sink is nil: results must go somewhere")
	}
	if len(scenarios) == 0 {
		return nil, errors.New("load: no scenarios")
	}
	if err := cfg.Segment.Check(); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	l := &Load{clock: cfg.Clock, health: newHealthWatch(cfg.Health)}
	seen := map[string]bool{}
	var errs []error
	for _, sc := range scenarios {
		if seen[sc.Name] {
			errs = append(errs, fmt.Errorf("scenario %q: name used twice", sc.Name))
		}
		seen[sc.Name] = true
		s, drivers, err := prepare(sc, cfg.Drivers)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		l.runs = append(l.runs, &scenarioRun{
			sc: s, drivers: drivers, enders: enders(drivers), sink: cfg.Sink, seed: scenarioSeed(cfg.Seed, s.Name),
			ids: &l.ids, log: cfg.Logger, health: l.health, stall: cfg.Stall, seg: cfg.Segment,
		})
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("load: %w", errors.Join(errs...))
	}
	return l, nil
}

// Run runs every scenario in parallel, each from its StartTime, and returns
// once all have ended — their span plus graceful stop at the latest — or
// soon after ctx is done; in both cases only after every goroutine it
// started has exited (the health watch's CPU sampler included). It returns
// nil when the schedule ran to its end, the context's cause when ctx ended
// it early, and an error if called twice.
func (l *Load) Run(ctx context.Context) error {
	clock, err := l.start()
	if err != nil {
		return err
	}
	sampleCtx, stopSampling := context.WithCancel(ctx)
	var sampler sync.WaitGroup
	sampler.Go(func() { l.health.sample(sampleCtx, clock) })
	var wg sync.WaitGroup
	for _, r := range l.runs {
		r.clock = clock
		x := newExecutor(r)
		wg.Go(func() { x.run(ctx) })
	}
	wg.Wait()
	stopSampling()
	sampler.Wait()
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return nil
}

// Health returns the generator's view of itself so far: generator lag and
// CPU use. It may be called while the load runs.
func (l *Load) Health() Health { return l.health.view() }

// start marks the Load as run and fixes its epoch.
func (l *Load) start() (Clock, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ran {
		return Clock{}, errors.New("load: Run called twice")
	}
	l.ran = true
	if l.clock.Epoch.IsZero() {
		l.clock.Epoch = time.Now()
	}
	return l.clock, nil
}

// Clock returns the load's clock; its Epoch is zero until Run starts unless
// Config.Clock set it.
func (l *Load) Clock() Clock {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.clock
}

// Stats returns the live totals of every scenario.
func (l *Load) Stats() Stats {
	var s Stats
	for _, r := range l.runs {
		s = s.add(r.stats.snapshot())
	}
	return s
}

// ScenarioStats returns the live counts of each scenario, by name.
func (l *Load) ScenarioStats() map[string]Stats {
	m := make(map[string]Stats, len(l.runs))
	for _, r := range l.runs {
		m[r.sc.Name] = r.stats.snapshot()
	}
	return m
}
