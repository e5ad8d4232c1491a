package runner

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/monitor"
	"github.com/chaosload/chaosload/slo"
)

// sidecars are what runs beside the load for as long as it runs: the
// resource monitor and the probes. Both are owned here: started with the
// load, stopped and waited for when it ends.
type sidecars struct {
	mon    *monitor.Monitor
	probes *probes
	stop   context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// startSidecars starts the monitor (when a process is monitored) and the
// probes (when there are any) on the run's clock.
func (r *run) startSidecars(ctx context.Context, clock load.Clock) *sidecars {
	ctx, stop := context.WithCancel(ctx)
	sc := &sidecars{stop: stop}
	if roots := r.monitoredRoots(ctx); len(roots) > 0 {
		sc.mon = monitor.New(roots, monitor.Config{Every: r.exp.MonitorEvery(), Now: clock.Now, Logger: r.opts.Logger})
		sc.wg.Go(func() { _ = sc.mon.Run(ctx) })
	}
	if len(r.exp.Probes) > 0 {
		sc.probes = newProbes(r.exp, clock)
		sc.probes.start(ctx)
	}
	return sc
}

// halt stops the sidecars and waits for them; safe to call more than once.
func (sc *sidecars) halt() {
	sc.once.Do(func() {
		sc.stop()
		sc.wg.Wait()
		if sc.probes != nil {
			sc.probes.wait()
		}
	})
}

// monitoredRoots lists the processes `monitor:` names (with their
// descendants), with the demo stack's when it is monitored; the roles found
// go into the outcome. The stack's "service" is this process: it is
// monitored without its children, which are the stack's PostgreSQL and
// Redis (monitored as such) or, in a test binary, other runs' stacks.
func (r *run) monitoredRoots(ctx context.Context) []monitor.Root {
	var roots []monitor.Root
	var pids []int
	roles := map[string]int{}
	if lister, ok := r.stack.(ProcessLister); ok && r.exp.MonitorStack() {
		for role, pid := range lister.Processes() {
			roles[role] = pid
			roots = append(roots, monitor.Root{PID: pid, Children: role != "service"})
		}
	}
	if m := r.exp.Monitor; m != nil {
		pids = append(pids, m.PIDs...)
		for _, name := range m.Processes {
			found, err := monitor.Find(ctx, name)
			if err != nil || len(found) == 0 {
				r.out.Warnings = append(r.out.Warnings, "monitor: no process named "+name)
			}
			pids = append(pids, found...)
		}
	}
	roots = append(roots, monitor.WithChildren(pids...)...)
	if len(roots) > 0 {
		res := &Resources{Roles: roles}
		for _, rt := range roots {
			res.PIDs = append(res.PIDs, rt.PID)
		}
		r.out.Resources = res
	}
	return roots
}

// samples converts the monitor's samples for slo.
func (sc *sidecars) samples() []slo.Sample {
	if sc == nil || sc.mon == nil {
		return nil
	}
	var out []slo.Sample
	for _, s := range sc.mon.Samples() {
		out = append(out, slo.Sample{At: s.At, Values: map[string]float64{
			"target_cpu": s.CPU, "target_rss": float64(s.RSS),
			"target_fds": float64(s.FDs), "target_threads": float64(s.Threads),
		}})
	}
	// the first sample has no CPU figure yet (no previous reading)
	if len(out) > 1 {
		delete(out[0].Values, "target_cpu")
	}
	return out
}

// fillResources sets each interval's resources from the last sample taken
// by its end, and the outcome's peaks and RSS slope over the whole run.
func fillResources(out *Outcome, samples []slo.Sample, iv time.Duration) {
	if len(samples) == 0 || out.Resources == nil {
		return
	}
	k := -1
	for i := range out.Intervals {
		end := time.Duration(i+1) * iv
		for k+1 < len(samples) && samples[k+1].At <= end {
			k++
		}
		if k >= 0 {
			out.Intervals[i].Resources = samples[k].Values
		}
	}
	res := out.Resources
	res.Samples = len(samples)
	for _, s := range samples {
		res.CPUPeak = max(res.CPUPeak, s.Values["target_cpu"])
		res.RSSPeak = max(res.RSSPeak, s.Values["target_rss"])
		res.FDsPeak = max(res.FDsPeak, s.Values["target_fds"])
		res.ThreadsPeak = max(res.ThreadsPeak, s.Values["target_threads"])
	}
	if v, ok := slo.Slope(samples, "target_rss", 0, samples[len(samples)-1].At+time.Nanosecond); ok {
		res.RSSSlope = &v
	}
	sort.Ints(res.PIDs)
}

// Resources is what the resource monitor saw of the target processes
// (summed over them), over the whole run; the per-interval figures are in
// Interval.Resources.
type Resources struct {
	// Roles maps a demo stack role (postgres, redis, service) to its PID.
	// "service" is the chaosload process itself: the demo service runs in
	// it, beside the load generator and the proxies.
	Roles map[string]int `json:"roles,omitempty"`
	// PIDs are the root processes monitored; their descendants are added
	// at each sample, except the "service" role's (this process's).
	PIDs    []int `json:"pids"`
	Samples int   `json:"samples"`
	// CPUPeak is in percent of one core; RSSPeak in bytes.
	CPUPeak     float64 `json:"cpu_peak"`
	RSSPeak     float64 `json:"rss_peak"`
	FDsPeak     float64 `json:"fds_peak"`
	ThreadsPeak float64 `json:"threads_peak"`
	// RSSSlope is the RSS trend over the run in bytes per minute (least
	// squares); nil with fewer than two samples.
	RSSSlope *float64 `json:"rss_slope_per_min,omitempty"`
}

// judgeSampled judges the resource and probe thresholds over the phases and
// episodes of v and sums up the probes.
func (r *run) judgeSampled(v slo.Verdict) {
	m := r.m
	src := slo.SampledSource{Samples: m.side.samples()}
	if m.side != nil && m.side.probes != nil {
		src.Probes = m.side.probes.rec
		r.out.Probes = m.side.probes.results(m.loadEnd)
	}
	for _, c := range slo.JudgeSampled(src, slo.Spec{Thresholds: r.exp.Thresholds}, v) {
		r.out.Checks = append(r.out.Checks, check(c))
	}
}
