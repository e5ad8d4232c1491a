package runner

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/load/httpload"
	"github.com/chaosload/chaosload/load/pgload"
	"github.com/chaosload/chaosload/load/redisload"
	"github.com/chaosload/chaosload/load/wsload"
	"github.com/chaosload/chaosload/metrics"
	"github.com/chaosload/chaosload/slo"
)

// measurement is what the execution produced.
type measurement struct {
	rec     *metrics.Recorder
	clock   load.Clock
	records []faults.Record
	loadEnd time.Duration
	acks    *ackSink
	// edges files the operations a fault met in flight under the fault
	// (nil for a stress run, which has no faults); a distributed run's
	// workers are told its edges and file by the same rule.
	edges *metrics.Edges
	// progressAgg is reused by every progress report.
	progressAgg metrics.Aggregate
	// samples are the load's state at each watch tick, for charts.
	samples loadSamples
	// health is the load generator's view of itself once the load ended.
	health load.Health
	// offered is load.Load.Offered of the run's load (nil for a stress
	// run, whose levels are loads of their own).
	offered func(from, to time.Duration) []load.Offer
	// traffic samples the replicas' proxies (traffic.go).
	traffic *trafficSampler
	// side is the resource monitor and the probes (monitor.go).
	side *sidecars
	// stressRecovery is the recovery after overload of a stress run, and
	// stressNetRecovery the same without the generator's own lateness (nil
	// when no steady-state threshold depends on it).
	stressRecovery, stressNetRecovery *slo.RecoveryResult
}

// loadSample is the load's state at one instant.
type loadSample struct {
	at        time.Duration
	vus, busy int64
	// arrivals counts the iterations due so far: started or dropped.
	arrivals int64
}

func sampleOf(at time.Duration, st load.Stats) loadSample {
	return loadSample{at: at, vus: st.ActiveVUs, busy: st.BusyVUs, arrivals: st.Started + st.Dropped}
}

// loadSamples are taken in time order, about one per interval.
type loadSamples []loadSample

// fill sets each interval's VUs, BusyVUs and Arrivals from the last sample
// taken by the interval's end; a late tick leaves the previous sample in
// force. ivs[k] starts at k·iv (metrics.Recorder.Intervals has no holes).
func (ss loadSamples) fill(ivs []Interval, iv time.Duration) {
	var cur, prev loadSample
	k := 0
	for i := range ivs {
		end := time.Duration(i+1) * iv
		for k < len(ss) && ss[k].at <= end {
			cur = ss[k]
			k++
		}
		ivs[i].VUs, ivs[i].BusyVUs = cur.vus, cur.busy
		ivs[i].Arrivals = cur.arrivals - prev.arrivals
		prev = cur
	}
}

// execute runs the load and the fault timeline on one clock, with the abort
// watch and progress reports beside them. It returns when the load has
// ended (or was stopped) and every fault has been reverted.
//
//	ctx ─┬─ loadCtx ── load.Run ────────────────┐ ends → stop timeline
//	     ├─ tlCtx ──── timeline.Run (reverts all on its ctx's end)
//	     └─ watchCtx ─ abort watch, progress    ┘ abort → stop load
func (r *run) execute(ctx context.Context) error {
	rec := metrics.NewRecorder(metrics.Config{})
	if r.opts.Workers != nil {
		rec = r.opts.Workers.Recorder()
	}
	m := &measurement{rec: rec, acks: newAckSink(r.exp)}
	r.m = m
	tl, err := r.timeline()
	if err != nil {
		return err
	}
	m.edges = metrics.NewEdges(m.rec, tl.Instants())
	tl.OnActing = m.edges.Begin
	if r.opts.Workers != nil {
		r.opts.Workers.EdgesFrom(m.edges.Edges) // they file their results by the same edges
	}
	poolBefore, poolOK := r.readPool(ctx) // before the load's clock starts: it takes a request
	m.clock = load.Clock{Epoch: time.Now()}
	if r.opts.Workers != nil {
		if m.clock.Epoch, err = r.startWorkers(ctx); err != nil {
			return err
		}
	}
	r.clockMu.Lock()
	r.loadStart = m.clock.Epoch
	r.clockMu.Unlock()
	tl.Now = m.clock.Now
	m.traffic = r.newTrafficSampler()
	m.traffic.sample(m.clock.Now)
	ld, closeLoad, err := r.newLoad(m)
	if err != nil {
		return err
	}
	defer closeLoad()
	m.side = r.startSidecars(ctx, m.clock)
	defer m.side.halt()
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	tlCtx, stopTimeline := context.WithCancel(context.Background())
	defer stopTimeline()
	watchCtx, stopWatch := context.WithCancel(ctx)

	var wg sync.WaitGroup
	var tlErr error
	wg.Go(func() { m.records, tlErr = tl.Run(tlCtx); stopLoadIf(tlErr, stopLoad) })
	wg.Go(func() { r.watch(watchCtx, ld, tl, stopLoad) })
	loadErr := r.noteLost(ld.Run(loadCtx))
	m.loadEnd = m.clock.Now()
	m.health, m.offered = ld.Health(), offeredOf(ld, r)
	stopTimeline()
	stopWatch()
	wg.Wait()
	m.edges.Flush()
	m.side.halt()
	poolAfter, poolAfterOK := r.readPool(ctx)
	r.out.Pool = poolWait(poolBefore, poolAfter, poolOK, poolAfterOK)
	m.samples = append(m.samples, sampleOf(m.loadEnd, ld.Stats()))
	m.traffic.sample(m.clock.Now)
	r.recordFaults(m.records)
	if tlErr != nil {
		return &InfraError{tlErr}
	}
	if loadErr != nil && ctx.Err() == nil && r.abortReason == "" {
		return infra("load: %w", loadErr)
	}
	return nil
}

// stopLoadIf stops the load when the timeline failed (a fault could not be
// applied): going on would judge a run that did not happen as written.
func stopLoadIf(err error, stop context.CancelFunc) {
	if err != nil {
		stop()
	}
}

// timeline binds every fault to its target.
func (r *run) timeline() (*faults.Timeline, error) {
	tl := &faults.Timeline{RevertTimeout: r.opts.RevertTimeout, OnEvent: r.faultEvent}
	for i := range r.exp.Faults {
		f := &r.exp.Faults[i].Fault
		if faults.IsHostKind(f.Kind) {
			a, err := faults.Bind(f, faults.TargetInfo{Name: f.Target, Process: r.processTarget(f.Target)}, r.opts.Logger)
			if err != nil {
				return nil, &InfraError{err}
			}
			tl.Entries = append(tl.Entries, faults.Entry{Fault: f, Action: a})
			continue
		}
		t := r.exp.Target(f.Target)
		if t == nil {
			return nil, infra("fault %q: unknown target %q", f.Name, f.Target)
		}
		sel, err := r.selectReplicas(i, t)
		if err != nil {
			return nil, &InfraError{err}
		}
		a, err := faults.Bind(f, faults.TargetInfo{
			Name: t.Name, Protocol: t.Protocol, DSN: t.DSN, Proxy: sel,
		}, r.opts.Logger)
		if err != nil {
			return nil, &InfraError{err}
		}
		tl.Entries = append(tl.Entries, faults.Entry{Fault: f, Action: a})
	}
	return tl, nil
}

func (r *run) faultEvent(ev faults.Event) {
	if !ev.Reverting && ev.ApplyErr == nil && r.m != nil && r.m.edges != nil {
		r.m.edges.Apply(ev.Due, ev.Applied)
		if t := r.exp.Target(ev.Target); t != nil {
			r.m.traffic.mark(ev.Name, r.selections[ev.Name], r.replicas[t.Name], t.Protocol, ev.Applied)
		}
	}
	if r.opts.OnEvent == nil {
		return
	}
	e := Event{Fault: ev.Name}
	switch {
	case ev.ApplyErr != nil:
		e.At, e.Kind, e.Message = ev.Applied, "fault-failed", ev.ApplyErr.Error()
	case ev.Reverting && ev.RevertErr != nil:
		e.At, e.Kind, e.Message = ev.Reverted, "fault-failed", "revert: "+ev.RevertErr.Error()
	case ev.Reverting:
		e.At, e.Kind = ev.Reverted, "fault-reverted"
		e.Message = fmt.Sprintf("%s on %s reverted in %s", ev.Kind, ev.Target, ev.RevertTook.Round(time.Millisecond))
	default:
		e.At, e.Kind = ev.Applied, "fault-applied"
		e.Message = fmt.Sprintf("%s on %s applied in %s", ev.Kind, ev.Target, ev.ApplyTook.Round(time.Millisecond))
	}
	r.opts.OnEvent(e)
}

// watch checks the abort conditions and reports progress until ctx ends.
func (r *run) watch(ctx context.Context, ld loadRun, tl *faults.Timeline, stopLoad context.CancelFunc) {
	every := r.opts.ProgressEvery
	if every <= 0 {
		every = time.Second
	}
	abort := slo.NewAbortWatch(r.exp.Abort, slo.AbortConfig{Net: r.m.rec.WithoutLateness()})
	tick := time.NewTicker(r.m.rec.Interval())
	defer tick.Stop()
	lastProgress := time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := r.m.clock.Now()
		st := ld.Stats()
		r.m.samples = append(r.m.samples, sampleOf(now, st))
		r.m.traffic.sample(r.m.clock.Now)
		if fired, reason := abort.Check(r.m.rec, now); fired {
			r.abortReason = reason
			if r.opts.OnEvent != nil {
				r.opts.OnEvent(Event{At: now, Kind: "abort", Message: reason})
			}
			stopLoad()
			return
		}
		if r.opts.OnProgress != nil && now-lastProgress >= every {
			lastProgress = now
			r.opts.OnProgress(r.progress(now, st, tl))
		}
	}
}

func (r *run) progress(now time.Duration, st load.Stats, tl *faults.Timeline) Progress {
	from := max(0, now-time.Second-r.m.rec.Interval())
	agg := &r.m.progressAgg
	if agg.Latency == nil {
		agg.Latency = metrics.NewHistogram()
	}
	r.m.rec.WindowInto(agg, from, now-r.m.rec.Interval(), metrics.Selector{})
	p := Progress{
		Elapsed: now, Total: load.Span(r.exp.Scenarios), ActiveFaults: tl.Active(),
		VUs: int(st.ActiveVUs), BusyVUs: int(st.BusyVUs), Dropped: st.Dropped,
	}
	p.Phase = r.livePhase(now, tl)
	if agg.Ops > 0 {
		p.OpsPerSec = float64(agg.Ops) / agg.Span.Seconds()
		p.ErrorRate = float64(agg.Errors) / float64(agg.Ops)
		p.P95 = metrics.Micros(agg.Latency.ValueAtQuantile(95))
	}
	return p
}

// livePhase names the phase the run is in now: warm-up, baseline, fault, or
// recovery once every fault applied so far has been reverted (the exact
// recovery point is only known when the run is judged).
func (r *run) livePhase(now time.Duration, tl *faults.Timeline) string {
	if len(tl.Active()) > 0 {
		return "fault"
	}
	for _, rec := range tl.Records() {
		if rec.WasReverted {
			return "recovery"
		}
	}
	if now < r.exp.WarmupOrDefault() {
		return "warm-up"
	}
	return "baseline"
}

// teeSink sends every result to each sink.
type teeSink []load.Sink

func (t teeSink) Record(res *load.Result) {
	for _, s := range t {
		s.Record(res)
	}
}

// newDrivers makes a driver per protocol; close releases their connections
// once the load has ended. The WebSocket driver records its connects and
// messages into rec itself (the step results go through the load's sink).
func newDrivers(rec load.Sink) (drivers map[load.Protocol]load.Driver, close func(), err error) {
	ws, err := wsload.New(wsload.Config{Sink: rec})
	if err != nil {
		return nil, nil, err
	}
	httpD, pg, rd := httpload.New(httpload.Config{}), pgload.New(pgload.Config{}), redisload.New(redisload.Config{})
	drivers = map[load.Protocol]load.Driver{load.HTTP: httpD, load.WS: ws, load.PG: pg, load.Redis: rd}
	return drivers, func() {
		httpD.Close()
		ws.Close()
		pg.Close()
		rd.Close()
	}, nil
}

// newLoad makes the run's load: this process's, or the workers' of a
// distributed run. close releases its drivers once it has ended.
func (r *run) newLoad(m *measurement) (loadRun, func(), error) {
	if r.opts.Workers != nil {
		return remoteLoad{r.opts.Workers, m.acks}, func() {}, nil
	}
	drivers, closeDrivers, err := newDrivers(m.rec)
	if err != nil {
		return nil, nil, infra("load: %w", err)
	}
	ld, err := load.New(r.exp.Scenarios, r.loadConfig(load.Config{
		Drivers: drivers,
		Sink:    teeSink{m.edges, m.acks},
		Seed:    r.out.Seed,
		Clock:   m.clock,
		Logger:  r.opts.Logger,
		// the generator is judged over the phases the target is judged in
		Health: load.HealthConfig{From: r.exp.WarmupOrDefault()},
	}))
	if err != nil {
		closeDrivers()
		return nil, nil, infra("load: %w", err)
	}
	return ld, closeDrivers, nil
}

// offeredOf returns what the load offered by phase: this process's load
// knows; of a distributed run's, the schedule is what was offered (a lost
// worker makes the run incomplete instead).
func offeredOf(ld loadRun, r *run) func(from, to time.Duration) []load.Offer {
	if l, ok := ld.(*load.Load); ok {
		return l.Offered
	}
	return func(from, to time.Duration) []load.Offer {
		var out []load.Offer
		for _, sc := range r.exp.Scenarios {
			if sc.OpenModel() {
				out = append(out, load.Offer{Scenario: sc.Name, Intended: planned([]load.Scenario{sc}, r.out.Seed, load.Segment{}, from, to)})
			}
		}
		return out
	}
}
