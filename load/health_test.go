package load

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestLagHistogram(t *testing.T) {
	t.Parallel()
	var h lagHistogram
	if h.quantile(0.99) != 0 {
		t.Fatal("an empty histogram has a p99")
	}
	// 990 values of 100µs, 10 of 20ms: p99 is 100µs, p99.1 is 20ms
	for range 990 {
		h.add(100 * time.Microsecond)
	}
	for range 10 {
		h.add(20 * time.Millisecond)
	}
	if got := h.quantile(0.99); got < 100*time.Microsecond || got > 103*time.Microsecond {
		t.Errorf("p99 %v, want 100µs within 3%%", got)
	}
	if got := h.quantile(0.991); got < 20*time.Millisecond || got > 20*time.Millisecond*103/100 {
		t.Errorf("p99.1 %v, want 20ms within 3%%", got)
	}
	if h.count() != 1000 || time.Duration(h.max.Load()) != 20*time.Millisecond {
		t.Errorf("count %d max %v", h.count(), time.Duration(h.max.Load()))
	}
	// every bucket's upper bound is in the bucket, and the next value is not
	for us := uint64(0); us < 1<<20; us += 1 + us/7 {
		i := lagBucket(us)
		if lagUpper(i) < us || lagBucket(lagUpper(i)) != i || lagBucket(lagUpper(i)+1) != i+1 {
			t.Fatalf("bucket %d of %dµs: upper %d", i, us, lagUpper(i))
		}
	}
}

// TestCPUSaturationFlagged: a process whose CPU use stays at or above 95%
// of its cores for more than 5 s is saturated; a shorter stretch, or high
// use below the mark, is not. CPU time is simulated in virtual time.
func TestCPUSaturationFlagged(t *testing.T) {
	tests := []struct {
		name  string
		share func(t time.Duration) float64 // CPU share over time
		sat   bool
	}{
		// saturated from 2s to 9s: 7s > 5s
		{"saturated 7s", func(t time.Duration) float64 { return pick(t >= 2*time.Second && t < 9*time.Second, 1, 0.3) }, true},
		// saturated for 4s, twice: never more than 5s at a stretch
		{"two short stretches", func(t time.Duration) float64 {
			return pick(t%(6*time.Second) < 4*time.Second, 1, 0.2)
		}, false},
		// busy but not saturated: 90% all along
		{"busy", func(time.Duration) float64 { return 0.9 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				var cpu atomic.Int64
				last := time.Duration(0)
				cpuTime := func() time.Duration { // integrates share over 100ms slices
					now := time.Since(start)
					for ; last+100*time.Millisecond <= now; last += 100 * time.Millisecond {
						cpu.Add(int64(tt.share(last) * 2 * float64(100*time.Millisecond)))
					}
					return time.Duration(cpu.Load())
				}
				sc := Scenario{Name: "s", Executor: ConstantVUs, VUs: 1, Duration: 12 * time.Second,
					Steps: []Step{step("get", time.Second)}}
				rec := &recorder{clock: Clock{Epoch: time.Now()}}
				l, err := New([]Scenario{sc}, Config{Drivers: map[Protocol]Driver{HTTP: nopDriver}, Sink: rec,
					Clock: rec.clock, Health: HealthConfig{CPUTime: cpuTime, Cores: 2}})
				if err != nil {
					t.Fatal(err)
				}
				run(t, l)
				h := l.Health()
				if h.Saturated != tt.sat || (tt.sat && !strings.Contains(h.Reason, "cores")) {
					t.Fatalf("health %+v, want saturated %v", h, tt.sat)
				}
				if h.Ops != 12 || h.LagP99 != 0 {
					t.Errorf("health %+v: want 12 ops without lag (virtual time)", h)
				}
			})
		})
	}
}

func pick(c bool, a, b float64) float64 {
	if c {
		return a
	}
	return b
}

// TestStarvedGeneratorFlagged: a generator starved of CPU (goroutines that
// spin on every core, four per core) starts its arrivals late, on the real
// clock, and its health says the run is invalid. (That a generator without
// lateness is not flagged is shown in virtual time, where a run has no
// lateness at all: TestCPUSaturationFlagged. A real run on a quiet process
// would depend on how quiet the machine is: a shared one showed 28 to 180 ms
// of lag with nothing spinning.)
func TestStarvedGeneratorFlagged(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real clock for a few seconds")
	}
	starved := healthOf(t, 4*runtime.GOMAXPROCS(0))
	t.Logf("starved: %+v", starved)
	if !starved.Saturated || !strings.Contains(starved.Reason, "generator lag p99") {
		t.Errorf("a starved generator is not flagged: %+v", starved)
	}
}

// healthOf runs 200 arrivals/s for 2s with spinners goroutines burning CPU
// and returns the load's health.
func healthOf(t *testing.T, spinners int) Health {
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range spinners {
		wg.Go(func() {
			for ctx.Err() == nil {
				for i := 0; i < 1e6; i++ {
					_ = i * i
				}
			}
		})
	}
	defer wg.Wait()
	defer stop()
	l, _ := startLoad(t, nopDriver, arrivalScenario(200, 2*time.Second, 50, 50))
	run(t, l)
	return l.Health()
}

// TestHealthJudgedFromWarmupEnd: the generator is judged from
// HealthConfig.From on, like the target: a late start-up (lag, saturated
// CPU) before it does not make the run invalid, the same after it does.
func TestHealthJudgedFromWarmupEnd(t *testing.T) {
	t.Parallel()
	h := newHealthWatch(HealthConfig{From: 5 * time.Second})
	h.observe(time.Second, 50*time.Millisecond) // during warm-up: ignored
	h.observe(6*time.Second, 100*time.Microsecond)
	if v := h.view(); v.Ops != 1 || v.Saturated {
		t.Fatalf("warm-up lag counted: %+v", v)
	}
	h.observe(7*time.Second, 50*time.Millisecond)
	if v := h.view(); v.Ops != 2 || !v.Saturated {
		t.Fatalf("lag after warm-up not flagged: %+v", v)
	}

	for _, tt := range []struct {
		name string
		from time.Duration
		sat  bool
	}{{"saturated during warm-up", 8 * time.Second, false}, {"saturated after warm-up", 0, true}} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				cpuTime := func() time.Duration { // both cores busy for the first 7s, then idle
					return 2 * min(time.Since(start), 7*time.Second)
				}
				h := newHealthWatch(HealthConfig{CPUTime: cpuTime, Cores: 2, From: tt.from})
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				h.sample(ctx, Clock{Epoch: start})
				if v := h.view(); v.Saturated != tt.sat {
					t.Fatalf("health %+v, want saturated %v", v, tt.sat)
				}
			})
		})
	}
}
