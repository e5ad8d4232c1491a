package load

import (
	"context"
	"sync"
	"time"
)

// arrivalRate is the open-model executor of constant-arrival-rate and
// ramping-arrival-rate: one scheduler goroutine walks the pacer's absolute
// schedule and hands each arrival to an idle VU goroutine; in-flight work
// never delays it.
//
//	scheduler ─ pop idle ─▶ vu.in ◀─ VU goroutine: run iteration, push itself to idle
//	    │ idle empty, fewer than maxVUs: start a VU with the arrival
//	    └ idle empty, maxVUs running:   record it dropped, at t_i
//
// idle is a channel with room for every VU, so neither side ever blocks on
// it: a VU is free exactly while it sits there. A VU is put there before its
// goroutine runs, so a free VU never depends on goroutine scheduling.
type arrivalRate struct {
	*scenarioRun
	pacer  Pacer
	idle   chan *poolVU
	pool   []*poolVU // every VU started, owned by the scheduler
	wg     sync.WaitGroup
	drop   Result // the scheduler's Result for dropped arrivals
	warned bool
	pre    int // VUs started at the scenario's start: the segment's share
	max    int // the most VUs of the pool: the segment's share, at least 1
}

// poolVU is a VU of the arrival-rate pool and its inbox.
type poolVU struct {
	vu *VU
	in chan arrival // room for one: the scheduler never blocks on it
}

// arrival is one entry of the schedule.
type arrival struct {
	i  int64         // index in the schedule
	at time.Duration // intended offset from the epoch
}

func newArrivalRate(s *scenarioRun) *arrivalRate {
	most := max(1, s.seg.Share(s.sc.MaxVUs))
	return &arrivalRate{scenarioRun: s, pacer: pacerOf(s.sc, s.seed), idle: make(chan *poolVU, most),
		pre: min(most, s.seg.Share(s.sc.PreAllocatedVUs)), max: most}
}

// pacerOf returns the schedule of an arrival-rate scenario. A Poisson
// schedule draws from the scenario's seed on a stream no VU uses (VUs use
// streams from 0 up: their index or their arrival's).
func pacerOf(sc *Scenario, seed uint64) Pacer {
	var curve interface {
		Pacer
		Curve
	}
	if sc.Executor == RampingArrivalRate {
		curve = NewRampingPacer(sc.StartRate, sc.Stages, sc.TimeUnit)
	} else {
		curve = ConstantPacer{Rate: sc.Rate, TimeUnit: sc.TimeUnit, Duration: sc.Duration}
	}
	if sc.Arrival == Poisson {
		return NewPoissonPacer(curve, seed, poissonStream)
	}
	return curve
}

// poissonStream is the random stream of Poisson arrivals.
const poissonStream = 1 << 63

// run implements executor.
func (e *arrivalRate) run(ctx context.Context) {
	soft, hard, cancel := stopContexts(ctx, e.clock, e.sc.Span(), *e.sc.GracefulStop)
	defer cancel()
	w := waiter{precise: true} // the schedule: arrivals at their instants
	defer w.stop()
	if w.until(soft, e.clock, e.sc.StartTime) {
		for range e.pre {
			e.idle <- e.spawn(soft, hard)
		}
		e.schedule(hard, &w, func(a arrival) { e.dispatch(soft, hard, a) })
	}
	for _, p := range e.pool {
		close(p.in) // a VU exits once its inbox is closed and empty
	}
	e.wg.Wait()
}

// schedule calls dispatch for every arrival of the segment at its intended
// time until the pacer ends (every t_i is before the scenario's end) or ctx
// is done. The pacer is walked through every global index (a Poisson pacer
// must draw each gap), and the arrivals of other segments are passed over
// without waiting for them. A late
// wake-up dispatches each arrival already due at once, without waiting: the
// schedule catches up, never shifts, and an arrival due before the end is
// offered even if the generator reaches it late. When ctx ends first, the
// arrivals not reached are noted as not made.
func (e *arrivalRate) schedule(ctx context.Context, w *waiter, dispatch func(arrival)) {
	for i := int64(0); ; i++ {
		off, ok := e.pacer.Arrival(i)
		if !ok {
			return
		}
		if !e.seg.Owns(i) {
			continue
		}
		a := arrival{i, e.sc.StartTime + off}
		if !w.until(ctx, e.clock, a.at) || !e.stalled(ctx, w, i) {
			e.offer.cutAt(i)
			return
		}
		dispatch(a)
	}
}

// stalled waits out Config.Stall before arrival i; false when ctx ended
// meanwhile.
func (e *arrivalRate) stalled(ctx context.Context, w *waiter, i int64) bool {
	if e.stall == nil {
		return true
	}
	d := e.stall(e.sc.Name, i)
	if d <= 0 {
		return true
	}
	return w.until(ctx, e.clock, e.clock.Now()+d)
}

// dispatch hands a to an idle VU, else to a new VU, else drops it.
func (e *arrivalRate) dispatch(soft, hard context.Context, a arrival) {
	select {
	case p := <-e.idle:
		p.in <- a
	default:
		if len(e.pool) < e.max {
			e.spawn(soft, hard).in <- a
			return
		}
		e.dropped(a)
	}
}

// spawn starts a VU goroutine that runs each arrival of its inbox and then
// offers itself as idle again.
func (e *arrivalRate) spawn(soft, hard context.Context) *poolVU {
	p := &poolVU{vu: e.newVU(), in: make(chan arrival, 1)}
	e.pool = append(e.pool, p)
	e.stats.vus.Add(1)
	e.wg.Go(func() {
		defer e.stats.vus.Add(-1)
		defer p.vu.wait.stop()
		for a := range p.in {
			e.arrive(soft, hard, p.vu, a)
			e.idle <- p
		}
	})
	return p
}

// arrive runs one iteration for arrival a, its random draws seeded by the
// arrival's index so they do not depend on which VU took it.
func (e *arrivalRate) arrive(soft, hard context.Context, vu *VU, a arrival) {
	if hard.Err() != nil {
		e.offer.skip(a.at) // handed on only once the scenario was stopping
		return
	}
	vu.reseed(e.seed, uint64(a.i))
	vu.Iteration = a.i
	e.iterate(soft, hard, vu, a.at)
}

// dropped records a as dropped: an error of class dropped whose times are
// all the arrival's intended time, so it is charged to the moment the load
// was offered.
func (e *arrivalRate) dropped(a arrival) {
	e.drop = Result{
		Scenario: e.sc.Name, Tags: e.sc.Tags, Class: ClassDropped, Err: ErrDropped,
		Intended: a.at, Dispatched: a.at, Start: a.at, End: a.at,
	}
	e.sink.Record(&e.drop)
	e.stats.dropped.Add(1)
	if !e.warned {
		e.warned = true
		e.log.Warn().Str("scenario", e.sc.Name).Int("maxVUs", e.sc.MaxVUs).
			Msg("insufficient VUs: arrivals are being dropped; raise maxVUs to offer the full rate")
	}
}
