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
// descendants), with the demo stack's when it is monitored, and names each
// in the outcome's resources. The stack's processes are its own: the
// service runs as a child process, not in this one.
func (r *run) monitoredRoots(ctx context.Context) []monitor.Root {
	res := &Resources{Roles: map[string]int{}}
	// current gives a supervised process's PID at each sample: a restarted
	// service is followed under its new PID. By index in res.Processes.
	current := map[int]func() int{}
	if lister, ok := r.stack.(ProcessLister); ok && r.exp.MonitorStack() {
		procs := lister.Processes()
		for _, role := range stackRoles(procs) {
			res.Roles[role] = procs[role]
			if sup := r.supervisor(role); sup != nil {
				current[len(res.Processes)] = sup.PID
			}
			res.Processes = append(res.Processes, ProcessResources{Name: role, PID: procs[role], Children: true})
		}
	}
	if r.exp.MonitorStack() {
		for _, name := range r.supervisedNames() {
			if name == "service" && len(res.Roles) > 0 {
				continue // the demo service, listed above
			}
			sup := r.supervisor(name)
			current[len(res.Processes)] = sup.PID
			res.Processes = append(res.Processes, ProcessResources{Name: name, PID: sup.PID(), Children: true})
		}
	}
	if m := r.exp.Monitor; m != nil {
		for _, pid := range m.PIDs {
			res.Processes = append(res.Processes, ProcessResources{PID: pid, Children: true})
		}
		for _, name := range m.Processes {
			found, err := monitor.Find(ctx, name)
			if err != nil || len(found) == 0 {
				r.out.Warnings = append(r.out.Warnings, "monitor: no process named "+name)
			}
			for _, pid := range found {
				res.Processes = append(res.Processes, ProcessResources{Name: name, PID: pid, Children: true})
			}
		}
	}
	if len(res.Processes) == 0 {
		return nil
	}
	roots := make([]monitor.Root, len(res.Processes))
	for i, p := range res.Processes {
		roots[i] = monitor.Root{PID: p.PID, Children: p.Children, Current: current[i]}
		res.PIDs = append(res.PIDs, p.PID)
	}
	r.out.Resources = res
	return roots
}

// stackRoles orders a stack's roles for the report: the service first,
// then its dependencies by name.
func stackRoles(procs map[string]int) []string {
	roles := make([]string, 0, len(procs))
	for role := range procs {
		roles = append(roles, role)
	}
	sort.Slice(roles, func(i, j int) bool {
		if (roles[i] == "service") != (roles[j] == "service") {
			return roles[i] == "service"
		}
		return roles[i] < roles[j]
	})
	return roles
}

// fillProcesses sets each monitored process's figures over the whole run,
// from its share of every sample (res.Processes is in the monitor's root
// order).
func (sc *sidecars) fillProcesses(res *Resources) {
	if sc == nil || sc.mon == nil || res == nil {
		return
	}
	samples := sc.mon.Samples()
	for i := range res.Processes {
		p := &res.Processes[i]
		var cpuSum float64
		var cpuN int
		for k, s := range samples {
			if i >= len(s.Roots) {
				continue
			}
			u := s.Roots[i]
			if k > 0 { // the first sample has no CPU figure (no previous reading)
				cpuSum += u.CPU
				cpuN++
				p.CPUPeak = max(p.CPUPeak, u.CPU)
			}
			p.RSSPeak = max(p.RSSPeak, float64(u.RSS))
			p.FDsPeak = max(p.FDsPeak, float64(u.FDs))
			p.ThreadsPeak = max(p.ThreadsPeak, float64(u.Threads))
		}
		if cpuN > 0 {
			p.CPUAvg = cpuSum / float64(cpuN)
		}
	}
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

// fillTrend sets the trend of the monitored processes' private memory after
// the warm-up (least squares over the samples from its end to the last, in
// bytes per minute) and the span it was fitted over. The warm-up is left
// out because a service's start-up grows its memory (pools opening, caches
// filling) without leaking; private memory because shared pages (a
// PostgreSQL backend touching more of the shared buffer pool) are not a
// leak either, and summed over processes they count many times.
func (sc *sidecars) fillTrend(res *Resources, warmup time.Duration) {
	if sc == nil || sc.mon == nil || res == nil {
		return
	}
	fillTrend(res, sc.mon.Samples(), warmup)
}

// fillTrend fits the private memory of samples after warmup (see
// sidecars.fillTrend).
func fillTrend(res *Resources, samples []monitor.Sample, warmup time.Duration) {
	var after []slo.Sample
	for _, s := range samples {
		if s.At >= warmup {
			after = append(after, slo.Sample{At: s.At, Values: map[string]float64{"private": float64(s.Private)}})
		}
	}
	if len(after) < 2 {
		return
	}
	last := after[len(after)-1].At
	if v, ok := slo.Slope(after, "private", warmup, last+time.Nanosecond); ok {
		res.PrivateSlope, res.TrendFromS, res.TrendToS = &v, seconds(warmup), seconds(last)
	}
}

// Resources is what the resource monitor saw of the target processes
// (summed over them, and each on its own), over the whole run; the
// per-interval figures are in Interval.Resources.
type Resources struct {
	// Roles maps a demo stack role (service, postgres, redis) to its PID.
	// Each is a process of its own: "service" is the demo service's
	// process, not chaosload's.
	Roles map[string]int `json:"roles,omitempty"`
	// PIDs are the root processes monitored; their descendants are added
	// at each sample.
	PIDs    []int `json:"pids"`
	Samples int   `json:"samples"`
	// CPUPeak is in percent of one core; RSSPeak in bytes. Summed over
	// every process monitored.
	CPUPeak     float64 `json:"cpu_peak"`
	RSSPeak     float64 `json:"rss_peak"`
	FDsPeak     float64 `json:"fds_peak"`
	ThreadsPeak float64 `json:"threads_peak"`
	// RSSSlope is the RSS trend over the run in bytes per minute (least
	// squares); nil with fewer than two samples.
	RSSSlope *float64 `json:"rss_slope_per_min,omitempty"`
	// PrivateSlope is the trend of private memory (RSS less shared pages:
	// monitor.Usage.Private) after the warm-up, from TrendFromS to TrendToS
	// (the first and last samples then), in bytes per minute (least
	// squares); nil with fewer than two samples after the warm-up. It is
	// the memory trend the readiness report judges (metric memory_trend).
	PrivateSlope *float64 `json:"private_slope_per_min,omitempty"`
	TrendFromS   float64  `json:"trend_from_s,omitempty"`
	TrendToS     float64  `json:"trend_to_s,omitempty"`
	// Processes is each root process monitored, on its own: the stack's
	// roles first (service, then its dependencies), then monitor.pids,
	// then monitor.processes.
	Processes []ProcessResources `json:"processes,omitempty"`
}

// ProcessResources is one monitored process, with its descendants when
// Children is set (a PostgreSQL postmaster's backends), over the whole run.
type ProcessResources struct {
	// Name is the demo stack's role (service, postgres, redis), the name
	// monitor.processes matched, or "" for a PID from monitor.pids.
	Name     string `json:"name,omitempty"`
	PID      int    `json:"pid"`
	Children bool   `json:"children"`
	// CPUPeak and CPUAvg are in percent of one core; RSSPeak in bytes.
	CPUPeak     float64 `json:"cpu_peak"`
	CPUAvg      float64 `json:"cpu_avg"`
	RSSPeak     float64 `json:"rss_peak"`
	FDsPeak     float64 `json:"fds_peak"`
	ThreadsPeak float64 `json:"threads_peak"`
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
