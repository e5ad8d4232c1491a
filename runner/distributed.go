package runner

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/chaosload/chaosload/cluster"
	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/load"
)

// LostWorker is the worker a distributed run lost after the start: its
// segment of the schedule from At on was never offered.
type LostWorker struct {
	// Worker is the worker's index and Attempt its registration.
	Worker  int `json:"worker"`
	Attempt int `json:"attempt"`
	// AtS is its last sign of life, in seconds from the start of the load.
	AtS float64 `json:"at_s"`
	// LostArrivals counts the open-model arrivals of its segment scheduled
	// from then on, of Arrivals in the whole run (0 of 0 when the load is
	// closed-model only: its VUs stopped at AtS).
	LostArrivals int64 `json:"lost_arrivals"`
	Arrivals     int64 `json:"arrivals"`
}

// String says which worker was lost, when, and how much of the schedule.
func (l LostWorker) String() string {
	s := fmt.Sprintf("worker %d (attempt %d) lost %.1fs into the load", l.Worker, l.Attempt, l.AtS)
	if l.Arrivals > 0 {
		s += fmt.Sprintf(": %d of the run's %d arrivals (%.1f%%) were never offered", l.LostArrivals, l.Arrivals,
			100*float64(l.LostArrivals)/float64(l.Arrivals))
	} else {
		s += ": its VUs stopped then"
	}
	return s
}

// loadRun is what execute needs of the load: this process's load.Load, or
// the workers of a distributed run.
type loadRun interface {
	Run(ctx context.Context) error
	Stats() load.Stats
	Health() load.Health
}

// remoteLoad is the load of a distributed run: the workers offer it, the
// coordinator merges their frames into the run's recorder.
type remoteLoad struct {
	c    *cluster.Coordinator
	acks *ackSink // receives the ids the workers' operations acknowledged
}

// Run waits for every worker's last frames; a stop (abort, interrupt, a
// failed fault) is passed on to the workers.
func (l remoteLoad) Run(ctx context.Context) error {
	err := l.c.Wait(ctx)
	if ctx.Err() != nil {
		l.c.Stop()
	}
	for step, ids := range l.c.Acks() {
		for _, id := range ids {
			l.acks.Record(&load.Result{Step: step, Ack: id})
		}
	}
	return err
}

// Stats is empty: the workers' VUs are not reported live.
func (remoteLoad) Stats() load.Stats { return load.Stats{} }

// Health is the workers' (cluster.Coordinator.Health): information; their
// lateness itself is in every result.
func (l remoteLoad) Health() load.Health { return l.c.Health() }

// startWorkers registers the workers and returns the load's epoch.
func (r *run) startWorkers(ctx context.Context) (time.Time, error) {
	epoch, err := r.opts.Workers.Start(ctx, r.out.Seed, r.vars)
	if err != nil {
		return time.Time{}, infra("workers: %w", err)
	}
	r.out.Workers = r.opts.Workers.Workers()
	return epoch, nil
}

// noteLost records a worker lost after the start; it returns err unless it
// was such a loss.
func (r *run) noteLost(err error) error {
	var lost *cluster.LostError
	if !errors.As(err, &lost) {
		return err
	}
	lw := &LostWorker{Worker: lost.Worker, Attempt: lost.Attempt, AtS: lost.At.Seconds()}
	end := load.Span(r.exp.Scenarios) + time.Hour // past every arrival
	lw.LostArrivals = planned(r.exp.Scenarios, r.out.Seed, load.Segment{Index: lost.Worker, Count: r.opts.Workers.Workers()}, lost.At, end)
	lw.Arrivals = planned(r.exp.Scenarios, r.out.Seed, load.Segment{}, 0, end)
	r.out.Lost = lw
	return nil
}

// planned counts the open-model arrivals of seg scheduled in [from, to).
func planned(scenarios []load.Scenario, seed int64, seg load.Segment, from, to time.Duration) int64 {
	var nop nopDriver
	drivers := map[load.Protocol]load.Driver{load.HTTP: nop, load.WS: nop, load.PG: nop, load.Redis: nop}
	ld, err := load.New(scenarios, load.Config{Drivers: drivers, Sink: nop, Seed: seed, Segment: seg, Logger: zerolog.Nop()})
	if err != nil {
		return 0
	}
	var n int64
	for _, o := range ld.Offered(from, to) {
		n += o.Intended
	}
	return n
}

// nopDriver is a driver and sink that do nothing: a load made only to walk
// its schedule.
type nopDriver struct{}

func (nopDriver) Do(context.Context, *load.VU, *load.Step, *load.Result) {}
func (nopDriver) Record(*load.Result)                                    {}

// WorkerLoad returns the cluster.WorkerConfig.Load of a worker of exp: the
// experiment's scenarios resolved with the coordinator's addresses, on the
// drivers of a run, as the segment the coordinator gives. close releases
// the drivers once the worker is done.
func WorkerLoad(exp *config.Experiment, log zerolog.Logger) (build func(int64, map[string]string, load.Segment, load.Sink, load.Clock) (*load.Load, error), close func()) {
	var closers []func()
	build = func(seed int64, vars map[string]string, seg load.Segment, sink load.Sink, clock load.Clock) (*load.Load, error) {
		e := exp.Clone()
		if err := e.Resolve(func(name string) (string, bool) { v, ok := vars[name]; return v, ok }); err != nil {
			return nil, fmt.Errorf("resolve addresses: %w", err)
		}
		drivers, closeDrivers, err := newDrivers(sink)
		if err != nil {
			return nil, err
		}
		closers = append(closers, closeDrivers)
		return load.New(e.Scenarios, load.Config{Drivers: drivers, Sink: sink, Seed: seed, Clock: clock, Logger: log,
			Segment: seg, Health: load.HealthConfig{From: e.WarmupOrDefault()}})
	}
	return build, func() {
		for _, c := range closers {
			c()
		}
	}
}

// FaultInstants returns the planned instants of exp's fault timeline
// (faults.Instants, as the coordinator's timeline has them): the
// cluster.WorkerConfig.Instants of a worker of exp.
func FaultInstants(exp *config.Experiment) []time.Duration {
	fs := make([]*faults.Fault, len(exp.Faults))
	for i := range exp.Faults {
		fs[i] = &exp.Faults[i].Fault
	}
	return faults.Instants(fs)
}
