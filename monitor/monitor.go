package monitor

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/shirou/gopsutil/v4/process"
)

// Sample is one reading: the sum over every process monitored, and each
// root's share.
type Sample struct {
	// At is the offset of the reading on the caller's clock (Config.Now).
	At time.Duration
	// Usage is summed over every process monitored.
	Usage
	// Roots holds each root's usage (with its descendants when
	// Root.Children), in the order given to New; a process reached from two
	// roots counts for the first.
	Roots []Usage
}

// Usage is what a set of processes used at one reading.
type Usage struct {
	// CPU is the CPU time used since the previous sample, in percent of
	// one core (200 = two cores busy); 0 in the first sample.
	CPU float64
	// RSS is resident memory in bytes.
	RSS uint64
	// Private is the part of RSS not shared: RSS less the resident pages
	// of files and shared memory (Linux's RssAnon), where a heap that
	// leaks shows. A PostgreSQL backend's RSS grows as it touches more of
	// the shared buffer pool, which summed over the backends counts the
	// same pages many times; Private does not.
	Private uint64
	// FDs counts open file descriptors; Threads, threads.
	FDs, Threads int64
	// Procs counts the processes read (roots and their children).
	Procs int
}

// Config tunes a Monitor; zero values are the documented defaults.
type Config struct {
	// Every is the sampling period (default 1s).
	Every time.Duration
	// Now is the clock samples are stamped with (default: time since Run
	// was called).
	Now func() time.Duration
	// Logger receives processes that could not be read.
	Logger zerolog.Logger
}

// Root is a process to monitor.
type Root struct {
	PID int
	// Children adds its descendants, found again at each sample (a
	// PostgreSQL postmaster's backends).
	Children bool
	// Current, when set, gives the root's PID at each sample instead of
	// PID (a supervised service restarted under a new PID); a result ≤ 0
	// falls back to PID.
	Current func() int
}

// pid is the root's PID now.
func (r Root) pid() int32 {
	if r.Current != nil {
		if p := r.Current(); p > 0 {
			return int32(p)
		}
	}
	return int32(r.PID)
}

// Monitor samples a fixed set of root processes and, where asked, their
// descendants.
type Monitor struct {
	roots []Root
	cfg   Config

	mu      sync.Mutex
	samples []Sample
	// prev is each process's CPU seconds at the previous sample.
	prev     map[int32]float64
	prevWall time.Time
}

// New returns a Monitor of roots.
func New(roots []Root, cfg Config) *Monitor {
	if cfg.Every <= 0 {
		cfg.Every = time.Second
	}
	return &Monitor{roots: roots, cfg: cfg, prev: map[int32]float64{}}
}

// WithChildren makes a Root of each PID, with its descendants.
func WithChildren(pids ...int) []Root {
	roots := make([]Root, len(pids))
	for i, p := range pids {
		roots[i] = Root{PID: p, Children: true}
	}
	return roots
}

// Run samples every Config.Every until ctx ends, then returns nil. The
// first sample is taken at once.
func (m *Monitor) Run(ctx context.Context) error {
	now := m.cfg.Now
	if now == nil {
		start := time.Now()
		now = func() time.Duration { return time.Since(start) }
	}
	tick := time.NewTicker(m.cfg.Every)
	defer tick.Stop()
	for {
		at := now()
		s := m.Sample(ctx)
		s.At = at
		m.mu.Lock()
		m.samples = append(m.samples, s)
		m.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Samples returns the samples taken so far, in time order.
func (m *Monitor) Samples() []Sample {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Sample(nil), m.samples...)
}

// Sample reads every process once; processes that vanished are skipped.
// CPU is the share of the time since the previous call.
func (m *Monitor) Sample(ctx context.Context) Sample {
	trees := m.processes(ctx)
	wall := time.Now()
	var elapsed float64 // seconds since the previous sample; 0 for the first
	if !m.prevWall.IsZero() {
		elapsed = wall.Sub(m.prevWall).Seconds()
	}
	s := Sample{Roots: make([]Usage, len(trees))}
	cur := map[int32]float64{}
	for i, procs := range trees {
		var cpuSecs float64
		for _, p := range procs {
			u, ok := read(ctx, p)
			if !ok {
				continue
			}
			s.Roots[i].add(u)
			cur[p.Pid] = u.cpu
			if prev, seen := m.prev[p.Pid]; seen {
				cpuSecs += max(u.cpu-prev, 0)
			} else if elapsed > 0 && u.created.After(m.prevWall) {
				cpuSecs += u.cpu // born since the last sample: all of its CPU is new
			}
		}
		if elapsed > 0 {
			s.Roots[i].CPU = cpuSecs / elapsed * 100
		}
		s.Usage.sum(s.Roots[i])
	}
	m.prev, m.prevWall = cur, wall
	return s
}

func (u *Usage) add(r usage) {
	u.Procs++
	u.RSS += r.rss
	u.Private += r.private
	u.FDs += r.fds
	u.Threads += r.threads
}

func (u *Usage) sum(o Usage) {
	u.CPU += o.CPU
	u.RSS += o.RSS
	u.Private += o.Private
	u.FDs += o.FDs
	u.Threads += o.Threads
	u.Procs += o.Procs
}

// processes returns, for each root, the root (with its descendants where
// asked) as it exists now; each process once, under the first root that
// reaches it. The process tree is read once per sample (every
// /proc/PID/stat once): gopsutil's Children reads every process per call,
// which is quadratic over a PostgreSQL cluster's backends.
func (m *Monitor) processes(ctx context.Context) [][]*process.Process {
	var kids map[int32][]int32
	for _, r := range m.roots {
		if r.Children {
			kids = childrenByParent(ctx)
			break
		}
	}
	out := make([][]*process.Process, len(m.roots))
	seen := map[int32]bool{}
	for i, r := range m.roots {
		queue := []int32{r.pid()}
		for len(queue) > 0 {
			pid := queue[0]
			queue = queue[1:]
			if seen[pid] {
				continue
			}
			seen[pid] = true
			p, err := process.NewProcessWithContext(ctx, pid)
			if err != nil {
				m.cfg.Logger.Debug().Err(err).Int32("pid", pid).Msg("monitor: process gone")
				continue
			}
			out[i] = append(out[i], p)
			if r.Children {
				queue = append(queue, kids[pid]...)
			}
		}
	}
	return out
}

// childrenByParent maps each process to its children, from one pass over
// every process.
func childrenByParent(ctx context.Context) map[int32][]int32 {
	pids, err := process.PidsWithContext(ctx)
	if err != nil {
		return nil
	}
	kids := make(map[int32][]int32, len(pids))
	for _, pid := range pids {
		p := &process.Process{Pid: pid}
		if ppid, err := p.PpidWithContext(ctx); err == nil {
			kids[ppid] = append(kids[ppid], pid)
		}
	}
	return kids
}

// usage is one process's reading.
type usage struct {
	cpu          float64 // user + system seconds since it started
	rss, private uint64
	fds, threads int64
	created      time.Time
}

// read reads one process; ok is false when it is gone.
func read(ctx context.Context, p *process.Process) (u usage, ok bool) {
	t, err := p.TimesWithContext(ctx)
	if err != nil {
		return u, false
	}
	mem, err := p.MemoryInfoExWithContext(ctx) // one read of /proc/PID/statm
	if err != nil {
		return u, false
	}
	u.cpu, u.rss, u.private = t.User+t.System, mem.RSS, mem.RSS-min(mem.Shared, mem.RSS)
	if n, err := p.NumFDsWithContext(ctx); err == nil {
		u.fds = int64(n)
	}
	if n, err := p.NumThreadsWithContext(ctx); err == nil {
		u.threads = int64(n)
	}
	if ms, err := p.CreateTimeWithContext(ctx); err == nil {
		u.created = time.UnixMilli(ms)
	}
	return u, true
}

// Find returns the PIDs of every process whose executable name is name, as
// ps shows it (on Linux at most 15 characters: /proc/PID/comm).
func Find(ctx context.Context, name string) ([]int, error) {
	procs, err := process.ProcessesWithContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("monitor: list processes to find %q: %w", name, err)
	}
	var pids []int
	for _, p := range procs {
		if n, err := p.NameWithContext(ctx); err == nil && n == name {
			pids = append(pids, int(p.Pid))
		}
	}
	return pids, nil
}
