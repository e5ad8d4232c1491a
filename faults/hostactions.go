package faults

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"syscall"
	"time"

	"github.com/chaosload/chaosload/host"
	"github.com/rs/zerolog"
)

// ProcessTarget returns the root processes a process fault acts on now: it
// is called at each check and apply, since a restarted service has a new
// PID.
type ProcessTarget func() ([]int, error)

// HostEffect is what a process or host fault did, as the kernel or the
// process showed it. Fields that do not apply to the kind stay zero.
type HostEffect struct {
	// Kind is the fault's kind.
	Kind Kind `json:"kind"`
	// PIDs are the processes acted on (a tree's every process for pause
	// and the cgroup limits); Signal the signal kill sent.
	PIDs   []int  `json:"pids,omitempty"`
	Signal string `json:"signal,omitempty"`
	// NewPID is the process a supervisor started after a kill, and
	// ReadyAfterS the time from the exit until it was ready again (set by
	// the runner, which watches the supervisor).
	NewPID      int     `json:"new_pid,omitempty"`
	ReadyAfterS float64 `json:"ready_after_s,omitempty"`
	// Stopped counts the processes seen in state T once the pause was in
	// effect; StoppedAtRevert those still in state T when it was reverted.
	Stopped         int `json:"stopped,omitempty"`
	StoppedAtRevert int `json:"stopped_at_revert,omitempty"`
	// Cgroup is the group the processes were confined in, and its version.
	Cgroup        string `json:"cgroup,omitempty"`
	CgroupVersion int    `json:"cgroup_version,omitempty"`
	// CPU limit: CFS periods, those throttled, the time throttled.
	Periods        int64   `json:"periods,omitempty"`
	Throttled      int64   `json:"throttled_periods,omitempty"`
	ThrottledTimeS float64 `json:"throttled_s,omitempty"`
	// Memory limit: the peak use, how often the limit was hit (the kernel
	// reclaimed), pages reclaimed (cgroup v2), processes OOM-killed.
	MemoryPeak int64 `json:"memory_peak,omitempty"`
	LimitHits  int64 `json:"limit_hits,omitempty"`
	Reclaimed  int64 `json:"pages_reclaimed,omitempty"`
	OOMKills   int64 `json:"oom_kills,omitempty"`
	// I/O limit: bytes read and written on the device while limited.
	Device     string `json:"device,omitempty"`
	ReadBytes  int64  `json:"read_bytes,omitempty"`
	WriteBytes int64  `json:"write_bytes,omitempty"`
	// Hogs: the CPU time burnt, the memory held (peak resident), and
	// whether the kernel killed the hog first.
	CPUTimeS  float64 `json:"cpu_time_s,omitempty"`
	Resident  int64   `json:"resident,omitempty"`
	HogKilled bool    `json:"hog_killed,omitempty"`
	// Disk fill: the filler file, the bytes allocated to it, and the
	// filesystem's free bytes before, while filled, and after the revert.
	File        string `json:"file,omitempty"`
	Written     int64  `json:"bytes_written,omitempty"`
	FreeBefore  *int64 `json:"free_before,omitempty"`
	FreeDuring  *int64 `json:"free_during,omitempty"`
	FreeAfter   *int64 `json:"free_after,omitempty"`
	FilesystemB int64  `json:"filesystem_size,omitempty"`
}

// HostReporter is an Action whose effect is read from the host; the
// timeline records it once the fault is reverted.
type HostReporter interface {
	HostEffect() *HostEffect
}

// Checker is an Action that can tell before the load starts whether it can
// be carried out here (root, a cgroup controller, a process to act on, a
// path); the runner's preflight calls it.
type Checker interface {
	Check(ctx context.Context) error
}

// bindHost makes the action of a process or host kind.
func bindHost(f *Fault, spec Spec, t TargetInfo, logger zerolog.Logger) (Action, error) {
	procs := processTarget(f, t)
	base := hostAction{name: f.Name, logger: logger, procs: procs, effect: HostEffect{Kind: f.Kind}}
	switch s := spec.(type) {
	case KillSpec:
		return &killAction{hostAction: base, sig: s.Signal}, nil
	case PauseSpec:
		return &pauseAction{hostAction: base}, nil
	case CPULimitSpec:
		return &limitAction{hostAction: base, ctrl: host.CPU,
			settings: func(c *host.Cgroups) ([]host.Setting, error) { return c.CPUSettings(s.CPUs), nil }}, nil
	case MemoryLimitSpec:
		return &limitAction{hostAction: base, ctrl: host.Memory,
			settings: func(c *host.Cgroups) ([]host.Setting, error) { return c.MemorySettings(s.Bytes), nil }}, nil
	case IOLimitSpec:
		a := &limitAction{hostAction: base, ctrl: host.IO}
		a.settings = func(c *host.Cgroups) ([]host.Setting, error) {
			dev, err := host.Device(s.Path)
			a.effect.Device = dev
			return c.IOSettings(dev, s.Read, s.Write), err
		}
		return a, nil
	case CPUHogSpec:
		return &hogAction{hostAction: base, kind: "cpu", n: int64(s.Cores)}, nil
	case MemoryHogSpec:
		return &hogAction{hostAction: base, kind: "memory", n: s.Bytes}, nil
	case DiskFillSpec:
		return &diskFillAction{hostAction: base, spec: s}, nil
	}
	return nil, fmt.Errorf("fault %q: kind %s is not a host kind", f.Name, spec.Kind())
}

// processTarget finds what f acts on: pid, process, or the stack process
// the runner gave.
func processTarget(f *Fault, t TargetInfo) ProcessTarget {
	switch {
	case f.PID != 0:
		pid := f.PID
		return func() ([]int, error) {
			if !host.Alive(pid) {
				return nil, fmt.Errorf("no process %d", pid)
			}
			return []int{pid}, nil
		}
	case f.Process != "":
		name := f.Process
		return func() ([]int, error) {
			pids := host.FindByName(name)
			if len(pids) == 0 {
				return nil, fmt.Errorf("no process named %q", name)
			}
			return pids, nil
		}
	case t.Process != nil:
		return t.Process
	}
	target := f.Target
	return func() ([]int, error) {
		return nil, fmt.Errorf("target %q is no process chaosload knows", target)
	}
}

// hostAction is what every host action has.
type hostAction struct {
	name   string
	logger zerolog.Logger
	procs  ProcessTarget
	effect HostEffect
}

// HostEffect implements HostReporter.
func (a *hostAction) HostEffect() *HostEffect { e := a.effect; return &e }

// signalable checks that the target's processes exist and may be
// signalled by this process.
func (a *hostAction) signalable() ([]int, error) {
	pids, err := a.procs()
	if err != nil {
		return nil, err
	}
	for _, p := range pids {
		if err := syscall.Kill(p, 0); err != nil {
			if errors.Is(err, syscall.EPERM) {
				return nil, fmt.Errorf("may not signal pid %d (running as uid %d): run chaosload as root or as the process's user", p, os.Geteuid())
			}
			return nil, fmt.Errorf("pid %d: %w", p, err)
		}
	}
	return pids, nil
}

// trees returns every process of the trees rooted at pids, sorted.
func trees(pids []int) []int {
	seen := map[int]bool{}
	var out []int
	for _, p := range pids {
		for _, q := range host.Tree(p) {
			if !seen[q] {
				seen[q] = true
				out = append(out, q)
			}
		}
	}
	sort.Ints(out)
	return out
}

// killAction sends a signal to the target's processes.
type killAction struct {
	hostAction
	sig syscall.Signal
}

func (a *killAction) Check(context.Context) error {
	_, err := a.signalable()
	return err
}

func (a *killAction) Apply(context.Context) (Revert, error) {
	pids, err := a.signalable()
	if err != nil {
		return nil, err
	}
	a.effect.PIDs, a.effect.Signal = pids, signalName(a.sig)
	for _, p := range pids {
		if err := syscall.Kill(p, a.sig); err != nil && !errors.Is(err, syscall.ESRCH) {
			return nil, fmt.Errorf("kill pid %d with %s: %w", p, a.effect.Signal, err)
		}
	}
	return func(context.Context) error { return nil }, nil
}

func signalName(sig syscall.Signal) string {
	for name, s := range Signals {
		if s == sig {
			return name
		}
	}
	return sig.String()
}

// pauseAction stops the target's process trees until reverted.
type pauseAction struct {
	hostAction
}

func (a *pauseAction) Check(context.Context) error {
	_, err := a.signalable()
	return err
}

func (a *pauseAction) Apply(ctx context.Context) (Revert, error) {
	ctx, cancel := context.WithTimeout(ctx, hostApplyTimeout)
	defer cancel()
	pids, err := a.signalable()
	if err != nil {
		return nil, err
	}
	j, err := host.Guarded(a.logger)
	if err != nil {
		return nil, err
	}
	var paused []*host.Paused
	resume := func(context.Context) error {
		var errs []error
		a.effect.StoppedAtRevert = 0
		for _, p := range paused {
			a.effect.StoppedAtRevert += p.Stopped()
			errs = append(errs, p.Resume())
		}
		return errors.Join(errs...)
	}
	for _, pid := range pids {
		p, err := host.Pause(ctx, j, pid)
		if err != nil {
			return nil, errors.Join(err, resume(ctx))
		}
		paused = append(paused, p)
		a.effect.PIDs = append(a.effect.PIDs, p.PIDs()...)
		a.effect.Stopped += p.Stopped()
	}
	return resume, nil
}

// limitAction confines the target's process trees in a cgroup.
type limitAction struct {
	hostAction
	ctrl     string
	settings func(*host.Cgroups) ([]host.Setting, error)
}

func (a *limitAction) Check(context.Context) error {
	c, err := host.Detect()
	if err != nil {
		return err
	}
	if err := c.Check(a.ctrl); err != nil {
		return err
	}
	if _, err := a.settings(c); err != nil {
		return err
	}
	_, err = a.procs()
	return err
}

func (a *limitAction) Apply(context.Context) (Revert, error) {
	c, err := host.Detect()
	if err != nil {
		return nil, err
	}
	settings, err := a.settings(c)
	if err != nil {
		return nil, err
	}
	roots, err := a.procs()
	if err != nil {
		return nil, err
	}
	j, err := host.Guarded(a.logger)
	if err != nil {
		return nil, err
	}
	pids := trees(roots)
	g, err := c.Confine(j, a.ctrl, pids, settings)
	if err != nil {
		return nil, err
	}
	a.effect.PIDs, a.effect.Cgroup, a.effect.CgroupVersion = pids, g.Dir(), int(c.Version)
	return func(ctx context.Context) error {
		st, serr := g.Stats()
		a.effect.Periods, a.effect.Throttled, a.effect.ThrottledTimeS = st.Periods, st.Throttled, st.ThrottledTime.Seconds()
		a.effect.MemoryPeak, a.effect.LimitHits, a.effect.Reclaimed, a.effect.OOMKills = st.MemoryPeak, st.LimitHits, st.Reclaimed, st.OOMKills
		a.effect.ReadBytes, a.effect.WriteBytes = st.ReadBytes, st.WriteBytes
		if serr != nil {
			a.logger.Warn().Err(serr).Str("fault", a.name).Msg("read the cgroup's counters")
		}
		return g.Release(ctx)
	}, nil
}

// hogAction runs a CPU or memory hog until reverted.
type hogAction struct {
	hostAction
	kind string
	n    int64
}

func (a *hogAction) Apply(ctx context.Context) (Revert, error) {
	h, err := host.StartHog(ctx, a.kind, a.n)
	if err != nil {
		return nil, err
	}
	a.effect.PIDs = []int{h.PID()}
	return func(context.Context) error {
		u, err := h.Stop()
		a.effect.CPUTimeS, a.effect.Resident, a.effect.HogKilled = u.CPUTime.Seconds(), u.Resident, u.Killed
		return err
	}, nil
}

// diskFillAction fills a directory's filesystem until reverted.
type diskFillAction struct {
	hostAction
	spec DiskFillSpec
}

// Check refuses a missing directory, and the root filesystem without an
// explicit bytes cap: filling / stops the whole machine, chaosload too.
func (a *diskFillAction) Check(context.Context) error {
	st, err := os.Stat(a.spec.Path)
	if err != nil {
		return fmt.Errorf("disk-fill: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("disk-fill: path %s is not a directory", a.spec.Path)
	}
	root, err := host.OnRootFS(a.spec.Path)
	if err != nil {
		return fmt.Errorf("disk-fill: %w", err)
	}
	if root && a.spec.Bytes == 0 {
		return fmt.Errorf("disk-fill: %s is on the root filesystem; filling it would stop the whole machine: "+
			"set bytes (the most to write, e.g. bytes: 1GB), or name a path on a filesystem of its own", a.spec.Path)
	}
	return nil
}

func (a *diskFillAction) Apply(ctx context.Context) (Revert, error) {
	if err := a.Check(ctx); err != nil {
		return nil, err
	}
	j, err := host.Guarded(a.logger)
	if err != nil {
		return nil, err
	}
	fill, err := host.FillDisk(ctx, j, host.FillSpec{Dir: a.spec.Path, Share: a.spec.Share, Size: a.spec.Bytes})
	if err != nil {
		return nil, err
	}
	a.effect.File, a.effect.Written = fill.File(), fill.Written
	a.effect.FreeBefore, a.effect.FreeDuring, a.effect.FilesystemB = &fill.Before.Free, &fill.During.Free, fill.Before.Total
	return func(context.Context) error {
		err := fill.Release()
		if sp, serr := host.SpaceOf(a.spec.Path); serr == nil {
			a.effect.FreeAfter = &sp.Free
		}
		return err
	}, nil
}

// hostApplyTimeout bounds the wait of a pause for its processes to show
// state T (one in uninterruptible sleep may take a moment).
const hostApplyTimeout = 30 * time.Second
