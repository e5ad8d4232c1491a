package load

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
)

// The limits beyond which the generator calls itself saturated. They are
// information for the reader, and decide nothing: whether the generator
// could have changed a verdict is judged check by check, on each
// operation's own lateness (package slo).
const (
	// MaxGeneratorLagP99 is the highest generator lag p99 of a generator
	// that is not saturated.
	MaxGeneratorLagP99 = 5 * time.Millisecond
	// MaxCPUSaturation is the longest stretch a generator that is not
	// saturated spends with the process's CPU saturated.
	MaxCPUSaturation = 5 * time.Second
	// SaturatedCPU is the share of GOMAXPROCS cores at which the process
	// counts as saturated.
	SaturatedCPU = 0.95
	// DefaultHealthEvery is how often the process's CPU use is sampled.
	DefaultHealthEvery = time.Second
)

// HealthConfig tunes the generator's watch on itself. The zero value is
// the default.
type HealthConfig struct {
	// Every is the CPU sampling period (default 1s).
	Every time.Duration
	// CPUTime returns the CPU time (user + system) the process has used so
	// far; nil reads getrusage(RUSAGE_SELF). Tests replace it.
	CPUTime func() time.Duration
	// Cores is the number of cores the process may use; 0 means
	// runtime.GOMAXPROCS(0).
	Cores int
	// From is the offset on the load's clock from which the generator is
	// judged, as the target is: the runner passes the end of the warm-up.
	// Operations intended earlier (start-up: every VU spawned at once) and
	// CPU samples taken earlier are not counted. 0 judges the whole run.
	From time.Duration
}

// Health is the load generator's view of itself: how late it was on its
// own and how busy the process was. The process also runs the proxies
// (and, with `stack:`, the demo service), so a saturated CPU is a starved
// generator whoever used it. These figures are reported, never judged:
// the per-operation lateness behind them is (Result.OwnLateness).
type Health struct {
	// Ops is how many operations' generator lag was observed.
	Ops int64
	// LagP50, LagP99 and LagMax are the generator lag (intended start →
	// hand-off to the driver: the executor's own lateness, never the wait
	// for a connection, which is the target's) at p50 and p99 (within 3%,
	// never under) and at most.
	LagP50, LagP99, LagMax time.Duration
	// CPUPeak is the highest sampled CPU use, as a share of Cores.
	CPUPeak float64
	// CPUSaturated is the longest stretch during which every sample was at
	// or above SaturatedCPU.
	CPUSaturated time.Duration
	// Cores is the number of cores CPU use is measured against.
	Cores int
	// Saturated is true when the generator was busy beyond its limits:
	// LagP99 above MaxGeneratorLagP99 or CPUSaturated above
	// MaxCPUSaturation. Reason says which. It is information: a busy
	// generator may or may not have changed a verdict, which only the
	// checks judged without its lateness tell.
	Saturated bool
	Reason    string
}

// healthWatch collects the generator lag of every operation (lock-free) and
// samples the process's CPU use while the load runs.
type healthWatch struct {
	cfg  HealthConfig
	lag  lagHistogram
	peak atomic.Uint64 // math.Float64bits of the peak CPU share
	sat  atomic.Int64  // longest saturated stretch (ns)
}

func newHealthWatch(cfg HealthConfig) *healthWatch {
	if cfg.Every <= 0 {
		cfg.Every = DefaultHealthEvery
	}
	if cfg.CPUTime == nil {
		cfg.CPUTime = processCPU
	}
	if cfg.Cores <= 0 {
		cfg.Cores = runtime.GOMAXPROCS(0)
	}
	return &healthWatch{cfg: cfg}
}

// observe records the generator lag of an operation intended at intended,
// unless it was intended before cfg.From.
func (h *healthWatch) observe(intended, lag time.Duration) {
	if intended >= h.cfg.From {
		h.lag.add(lag)
	}
}

// sample measures CPU use every cfg.Every until ctx is done, counting the
// samples taken from cfg.From on clock. A stretch of saturated samples
// counts from the start of its first sampling period.
func (h *healthWatch) sample(ctx context.Context, clock Clock) {
	t := time.NewTicker(h.cfg.Every)
	defer t.Stop()
	lastCPU, lastAt := h.cfg.CPUTime(), time.Now()
	var streak time.Duration
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cpu, now := h.cfg.CPUTime(), time.Now()
		wall := now.Sub(lastAt)
		if wall <= 0 {
			continue
		}
		share := float64(cpu-lastCPU) / float64(wall) / float64(h.cfg.Cores)
		lastCPU, lastAt = cpu, now
		if clock.Now() < h.cfg.From {
			continue
		}
		h.notePeak(share)
		streak = h.noteStreak(share, streak, wall)
	}
}

// notePeak raises the peak CPU share to share.
func (h *healthWatch) notePeak(share float64) {
	for {
		old := h.peak.Load()
		if share <= math.Float64frombits(old) || h.peak.CompareAndSwap(old, math.Float64bits(share)) {
			return
		}
	}
}

// noteStreak extends or ends the saturated stretch and keeps the longest.
func (h *healthWatch) noteStreak(share float64, streak, wall time.Duration) time.Duration {
	if share < SaturatedCPU {
		return 0
	}
	streak += wall
	if int64(streak) > h.sat.Load() {
		h.sat.Store(int64(streak))
	}
	return streak
}

// view returns the health so far.
func (h *healthWatch) view() Health {
	v := Health{
		Ops: h.lag.count(), LagP50: h.lag.quantile(0.5), LagP99: h.lag.quantile(0.99),
		LagMax:  time.Duration(h.lag.max.Load()),
		CPUPeak: math.Float64frombits(h.peak.Load()), CPUSaturated: time.Duration(h.sat.Load()), Cores: h.cfg.Cores,
	}
	switch {
	case v.LagP99 > MaxGeneratorLagP99:
		v.Saturated = true
		v.Reason = fmt.Sprintf("generator lag p99 %s > %s: the generator started operations late on its own",
			v.LagP99.Round(10*time.Microsecond), MaxGeneratorLagP99)
	case v.CPUSaturated > MaxCPUSaturation:
		v.Saturated = true
		v.Reason = fmt.Sprintf("the process used ≥ %.0f%% of %d cores for %s (> %s)",
			SaturatedCPU*100, v.Cores, v.CPUSaturated.Round(time.Second), MaxCPUSaturation)
	}
	return v
}

// processCPU returns the CPU time the process has used (user + system).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// lagHistogram is a lock-free log-linear histogram of durations in
// microseconds: exact below 64 µs, then 32 buckets per power of two (under
// 3.2% wide), up to 2⁴⁰ µs. One atomic add per value.
type lagHistogram struct {
	buckets [64 + 35*32]atomic.Int64
	max     atomic.Int64
}

// add records d (negative counts as 0).
func (h *lagHistogram) add(d time.Duration) {
	d = max(d, 0)
	h.buckets[lagBucket(uint64(d/time.Microsecond))].Add(1)
	for {
		m := h.max.Load()
		if int64(d) <= m || h.max.CompareAndSwap(m, int64(d)) {
			return
		}
	}
}

// lagBucket returns the bucket of us microseconds.
func lagBucket(us uint64) int {
	if us < 64 {
		return int(us)
	}
	us = min(us, 1<<40-1)
	e := bits.Len64(us) - 6 // us>>e is in [32, 63]
	return 64 + (e-1)*32 + int(us>>e) - 32
}

// lagUpper returns the highest value (µs) of bucket i.
func lagUpper(i int) uint64 {
	if i < 64 {
		return uint64(i)
	}
	e := (i-64)/32 + 1
	m := uint64((i-64)%32 + 32)
	return (m+1)<<e - 1
}

func (h *lagHistogram) count() int64 {
	var n int64
	for i := range h.buckets {
		n += h.buckets[i].Load()
	}
	return n
}

// quantile returns the q-quantile (nearest rank), as its bucket's highest
// value; 0 when empty.
func (h *lagHistogram) quantile(q float64) time.Duration {
	n := h.count()
	if n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(n)))
	var seen int64
	for i := range h.buckets {
		if seen += h.buckets[i].Load(); seen >= max(rank, 1) {
			return min(time.Duration(lagUpper(i))*time.Microsecond, time.Duration(h.max.Load()))
		}
	}
	return time.Duration(h.max.Load())
}
