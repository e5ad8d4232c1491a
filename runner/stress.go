package runner

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/metrics"
	"github.com/chaosload/chaosload/slo"
)

// StressResult is the breaking-point search of a `stress:` section: the
// degradation curve (one StressLevel per level run), the capacity, the
// breaking point and the recommended operating point. docs/outcome.md
// describes each field.
type StressResult struct {
	// Unit is vus or rate (iterations per second).
	Unit string `json:"unit"`
	// From, Step, To and EveryS are the plan; Planned lists the levels
	// of a ladder (stress.levels), whose From and To are its ends and Step
	// 0.
	From    float64   `json:"from"`
	Step    float64   `json:"step"`
	To      float64   `json:"to"`
	Planned []float64 `json:"planned,omitempty"`
	EveryS  float64   `json:"every_s"`
	// SettleS is the start of each level that was not judged.
	SettleS float64       `json:"settle_s"`
	Levels  []StressLevel `json:"levels"`
	// Capacity is the last level at which every threshold held; nil when
	// the first level already broke.
	Capacity *float64 `json:"capacity"`
	// BreakingPoint is the first level at which a threshold failed; nil
	// when every planned level held (the capacity is then at least To).
	BreakingPoint *float64 `json:"breaking_point"`
	// BrokenBy names the checks that failed at the breaking point, with
	// what was observed ("latency: p(95) < 100ms (p95 = 340ms)").
	BrokenBy []string `json:"broken_by,omitempty"`
	// OperatingPoint is the recommended load: 80% of the capacity.
	OperatingPoint *OperatingPoint `json:"operating_point,omitempty"`
	// RecoverAt is the level load dropped back to after the breaking
	// point (recovery is measured there: Outcome.Recovery).
	RecoverAt *float64 `json:"recover_at,omitempty"`
}

// StressLevel is one level of the degradation curve: what its judged part
// (after the settle time) measured.
type StressLevel struct {
	Level  float64 `json:"level"`
	StartS float64 `json:"start_s"`
	EndS   float64 `json:"end_s"`
	// Passed is true when every threshold held on the level.
	Passed    bool    `json:"passed"`
	Ops       int64   `json:"ops"`
	Errors    int64   `json:"errors"`
	ErrorRate float64 `json:"error_rate"`
	OpsPerS   float64 `json:"ops_per_s"`
	OKPerS    float64 `json:"ok_per_s"`
	P50MS     float64 `json:"p50_ms"`
	P95MS     float64 `json:"p95_ms"`
	P99MS     float64 `json:"p99_ms"`
	// CPUMax (percent of one core) and RSSMax (bytes) are the monitored
	// processes' peaks on the level; nil without a monitor.
	CPUMax *float64 `json:"cpu_max,omitempty"`
	RSSMax *float64 `json:"rss_max,omitempty"`
	// GeneratorSaturated is set when the load generator was busy beyond
	// its usual limits on this level (information: it decides nothing).
	GeneratorSaturated bool `json:"generator_saturated,omitempty"`
	// Inconclusive is set when no threshold failed on the level but the
	// generator's own lateness decides one: the level neither held nor
	// broke.
	Inconclusive bool    `json:"inconclusive,omitempty"`
	Checks       []Check `json:"checks"`
	// Steps is each step's figures on the level (after the settle time).
	Steps []StepResult `json:"steps,omitempty"`
}

// OperatingPoint is the recommended load and the latency measured near it.
type OperatingPoint struct {
	// Level is 80% of the capacity.
	Level float64 `json:"level"`
	// P95MS is the p95 latency measured at MeasuredAt, the highest level
	// run at or below Level (the curve is not interpolated); nil when no
	// level that low was run.
	P95MS      *float64 `json:"p95_ms"`
	MeasuredAt *float64 `json:"measured_at"`
}

// OperatingShare is the share of the capacity recommended as the
// operating point.
const OperatingShare = 0.8

// stressGracefulStop lets a level's in-flight iterations finish before the
// next level starts.
const stressGracefulStop = 2 * time.Second

// executeStress runs the stress ladder: one load per level, on one clock
// and one recorder, each judged as soon as it ends; stepping stops at the
// first level that breaks a threshold, and load then drops back to the
// recovery level for recovery.within + hold + window.
func (r *run) executeStress(ctx context.Context) error {
	st := r.exp.Stress
	m := &measurement{rec: metrics.NewRecorder(metrics.Config{}), acks: newAckSink(r.exp)}
	r.m = m
	poolBefore, poolOK := r.readPool(ctx) // before the load's clock starts: it takes a request
	m.clock = load.Clock{Epoch: time.Now()}
	drivers, closeDrivers, err := newDrivers(m.rec)
	if err != nil {
		return infra("load: %w", err)
	}
	defer closeDrivers()
	m.side = r.startSidecars(ctx, m.clock)
	defer m.side.halt()
	levels := st.Levels()
	res := &StressResult{Unit: st.UnitOrDefault(), From: levels[0], Step: st.Step, To: levels[len(levels)-1],
		Planned: st.Ladder, EveryS: seconds(st.Every), SettleS: seconds(st.SettleOrDefault())}
	r.out.Stress = res
	at := time.Duration(0)
	for _, level := range levels {
		lv, err := r.stressLevel(ctx, drivers, level, at, st.Every)
		if err != nil {
			return err
		}
		res.Levels = append(res.Levels, lv)
		r.levelEvent(lv)
		if ctx.Err() != nil || !lv.Passed {
			break
		}
		at = r.nextStart(lv)
	}
	r.summarizeStress(res)
	if res.BreakingPoint != nil && !st.NoRecovery && ctx.Err() == nil {
		if err := r.stressRecovery(ctx, drivers, res); err != nil {
			return err
		}
	}
	m.side.halt()
	m.loadEnd = m.clock.Now()
	poolAfter, poolAfterOK := r.readPool(ctx)
	r.out.Pool = poolWait(poolBefore, poolAfter, poolOK, poolAfterOK)
	return nil
}

// nextStart is when the level after lv starts: at its planned end, or on
// the next interval boundary once lv's load has stopped.
func (r *run) nextStart(lv StressLevel) time.Duration {
	iv := r.m.rec.Interval()
	end := time.Duration(lv.EndS * float64(time.Second))
	now := (r.m.clock.Now() + iv - 1) / iv * iv
	return max(end, now)
}

// stressLevel runs one level from at for length and judges it.
func (r *run) stressLevel(ctx context.Context, drivers map[load.Protocol]load.Driver, level float64, at, length time.Duration) (StressLevel, error) {
	if err := r.runLevel(ctx, drivers, level, at, length); err != nil {
		return StressLevel{}, err
	}
	return r.judgeLevel(level, at, at+length), nil
}

// runLevel runs the stressed scenario at level from at for length.
func (r *run) runLevel(ctx context.Context, drivers map[load.Protocol]load.Driver, level float64, at, length time.Duration) error {
	m := r.m
	sc := r.levelScenario(level, at, length)
	ld, err := load.New([]load.Scenario{sc}, r.loadConfig(load.Config{
		Drivers: drivers, Sink: teeSink{m.rec, m.acks}, Seed: r.out.Seed + int64(at), Clock: m.clock,
		Logger: r.opts.Logger, Health: load.HealthConfig{From: at + r.exp.Stress.SettleOrDefault()},
	}))
	if err != nil {
		return infra("stress level %g: %w", level, err)
	}
	stopProgress := r.levelProgress(ld, level)
	err = ld.Run(ctx)
	stopProgress()
	if err != nil && ctx.Err() == nil {
		return infra("stress level %g: %w", level, err)
	}
	m.health = ld.Health()
	m.samples = append(m.samples, sampleOf(m.clock.Now(), ld.Stats()))
	return nil
}

// levelScenario is the stressed scenario with its executor replaced by a
// constant load at level, starting at at for length.
func (r *run) levelScenario(level float64, at, length time.Duration) load.Scenario {
	st := r.exp.Stress
	base := r.exp.StressScenario()
	sc := *base
	sc.Stages, sc.StartVUs, sc.Iterations, sc.MaxDuration, sc.StartRate = nil, nil, 0, 0, 0
	sc.VUs, sc.Rate, sc.PreAllocatedVUs, sc.MaxVUs, sc.TimeUnit = 0, 0, 0, 0, 0
	sc.StartTime, sc.Duration = at, length
	sc.GracefulStop = ptrTo(stressGracefulStop)
	if st.UnitOrDefault() == config.StressVUs {
		sc.Executor, sc.VUs, sc.Arrival = load.ConstantVUs, int(level), ""
		return sc
	}
	sc.Executor, sc.Rate, sc.TimeUnit = load.ConstantArrivalRate, level, time.Second
	sc.MaxVUs = st.MaxVUs
	if sc.MaxVUs == 0 {
		sc.MaxVUs = max(base.MaxVUs, int(4*level), 10)
	}
	sc.PreAllocatedVUs = min(max(base.PreAllocatedVUs, int(level)/2, 1), sc.MaxVUs)
	return sc
}

func ptrTo[T any](v T) *T { return &v }

// judgeLevel judges every threshold over the level's judged part
// [at + settle, end) and measures its point of the curve.
func (r *run) judgeLevel(level float64, at, end time.Duration) StressLevel {
	m := r.m
	from := at + r.exp.Stress.SettleOrDefault()
	lv := StressLevel{Level: level, StartS: seconds(at), EndS: seconds(end), Passed: true}
	p := phaseStats(m.rec, slo.Phase{Name: "level", Start: from, End: end})
	lv.Ops, lv.Errors, lv.OpsPerS, lv.OKPerS = p.Ops, p.Errors, p.OpsPerS, p.OKPerS
	lv.P50MS, lv.P95MS, lv.P99MS = p.P50MS, p.P95MS, p.P99MS
	lv.Steps = steps(m.rec, r.exp, from, end)
	if p.Ops > 0 {
		lv.ErrorRate = float64(p.Errors) / float64(p.Ops)
	}
	src := slo.SampledSource{Samples: m.side.samples()}
	if m.side.probes != nil {
		src.Probes = m.side.probes.rec
	}
	name := fmt.Sprintf("level %g", level)
	iv := m.rec.Interval()
	for _, th := range r.exp.Thresholds {
		var c slo.Check
		if slo.Sampled(th) {
			c = slo.SampledCheck(src, th, name, from, end)
		} else {
			c = levelCheck(m.rec, th, name, (from+iv-1)/iv*iv, end/iv*iv)
		}
		lv.Checks = append(lv.Checks, check(c))
		lv.Passed = lv.Passed && c.Passed && !c.Flipped()
	}
	lv.Inconclusive = !lv.Passed && !slices.ContainsFunc(lv.Checks, Check.Failed)
	lv.CPUMax, lv.RSSMax = samplePeak(src.Samples, "target_cpu", from, end), samplePeak(src.Samples, "target_rss", from, end)
	lv.GeneratorSaturated = m.health.Saturated
	return lv
}

// levelCheck judges th over [from, to) of rec, and again without the
// generator's own lateness when it depends on it.
func levelCheck(rec *metrics.Recorder, th config.Threshold, phase string, from, to time.Duration) slo.Check {
	obs := slo.Evaluate(rec, th, from, to)
	c := slo.Check{Name: th.Key, Phase: phase, Expression: th.Cond.Text, Observed: obs.String(), Passed: obs.Pass, Obs: obs}
	if slo.LatenessBound(th) {
		net := slo.Evaluate(rec.WithoutLateness(), th, from, to)
		c.Net = &net
	}
	return c
}

// samplePeak is the highest sample of metric in [from, to); nil without one.
func samplePeak(samples []slo.Sample, metric string, from, to time.Duration) *float64 {
	var peak *float64
	for _, s := range samples {
		if v, ok := s.Values[metric]; ok && s.At >= from && s.At < to && (peak == nil || v > *peak) {
			peak = &v
		}
	}
	return peak
}

// levelEvent reports a judged level to Options.OnEvent.
func (r *run) levelEvent(lv StressLevel) {
	if r.opts.OnEvent == nil {
		return
	}
	verdict := "held"
	switch {
	case lv.Inconclusive:
		verdict = "UNDECIDED (the generator's own lateness decides): " + strings.Join(failedChecks(lv.Checks), "; ")
	case !lv.Passed:
		verdict = "BROKE: " + strings.Join(failedChecks(lv.Checks), "; ")
	}
	r.opts.OnEvent(Event{At: time.Duration(lv.EndS * float64(time.Second)), Kind: "stress-level",
		Message: fmt.Sprintf("level %g %s: %s (p95 %.1fms, %.0f ok/s, errors %.2f%%)",
			lv.Level, r.exp.Stress.UnitOrDefault(), verdict, lv.P95MS, lv.OKPerS, lv.ErrorRate*100)})
}

func failedChecks(cs []Check) []string {
	var out []string
	for _, c := range cs {
		if !c.Passed {
			out = append(out, c.Name+" ("+c.Observed+")")
		}
	}
	return out
}
