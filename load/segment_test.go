package load

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"
)

func TestSegmentShare(t *testing.T) {
	t.Parallel()
	for _, count := range []int{0, 1, 2, 3, 7} {
		for n := range 30 {
			total := 0
			for idx := range max(count, 1) {
				s := Segment{idx, count}
				owned := 0
				for k := range n {
					if s.Owns(int64(k)) {
						owned++
					}
				}
				if got := s.Share(n); got != owned {
					t.Errorf("Segment{%d,%d}.Share(%d) = %d, want %d (owned)", idx, count, n, got, owned)
				}
				for j := range int64(owned) {
					if g := s.Global(j); !s.Owns(g) || g >= int64(n) {
						t.Errorf("Segment{%d,%d}.Global(%d) = %d: not its own below %d", idx, count, j, g, n)
					}
				}
				total += owned
			}
			if total != n {
				t.Errorf("%d segments share %d of %d", count, total, n)
			}
		}
	}
}

func TestSegmentCheck(t *testing.T) {
	t.Parallel()
	for _, s := range []Segment{{0, 3}, {3, 3}, {-1, 2}, {1, 0}, {0, -1}} {
		err := s.Check()
		if ok := s.Index >= 0 && s.Index < max(s.Count, 1) && s.Count >= 0; ok != (err == nil) {
			t.Errorf("Segment%+v.Check() = %v", s, err)
		}
	}
}

// segmentRow is one scenario whose schedule the segments must split
// exactly; key names what must match in the union (the arrival's index and
// intended start; for shared-iterations the iteration alone, since which VU
// takes which iteration depends on who is free first).
type segmentRow struct {
	name string
	sc   Scenario
	key  func(iteration int64, intended time.Duration) string
}

func indexAndStart(i int64, at time.Duration) string { return fmt.Sprintf("%d@%d", i, at) }
func indexOnly(i int64, _ time.Duration) string      { return fmt.Sprint(i) }

func segmentRows() []segmentRow {
	think := Think{50 * time.Millisecond, 150 * time.Millisecond}
	get := []Step{{Name: "get", HTTP: &HTTPRequest{URL: "http://127.0.0.1:1/"}, Think: think}}
	open := []Step{step("get", 0)}
	ramp := []Stage{{time.Second, 40}, {0, 90}, {time.Second, 10}}
	return []segmentRow{
		// uniform constant rate, from a StartTime
		{"constant", Scenario{Executor: ConstantArrivalRate, Rate: 50, Duration: 2 * time.Second,
			StartTime: 100 * time.Millisecond, PreAllocatedVUs: 20, Steps: open}, indexAndStart},
		// a ramp up, a jump and a ramp down
		{"ramping", Scenario{Executor: RampingArrivalRate, StartRate: 5, Stages: ramp,
			PreAllocatedVUs: 20, Steps: open}, indexAndStart},
		// seeded Poisson arrivals at a constant mean rate
		{"poisson", Scenario{Executor: ConstantArrivalRate, Rate: 60, Duration: 2 * time.Second,
			Arrival: Poisson, PreAllocatedVUs: 20, Steps: open}, indexAndStart},
		// seeded Poisson arrivals of a ramp (time rescaling)
		{"poisson ramping", Scenario{Executor: RampingArrivalRate, StartRate: 5, Stages: ramp,
			Arrival: Poisson, PreAllocatedVUs: 20, Steps: open}, indexAndStart},
		// closed model: each VU's think times come from its global stream
		{"constant-vus", Scenario{Executor: ConstantVUs, VUs: 8, Duration: 2 * time.Second, Steps: get}, indexAndStart},
		// closed model ramp: the population at every change is striped
		{"ramping-vus", Scenario{Executor: RampingVUs, StartVUs: new(2),
			Stages: []Stage{{time.Second, 9}, {time.Second, 3}}, Steps: get}, indexAndStart},
		// per-VU iterations: VU v's iterations on worker v mod N
		{"per-vu-iterations", Scenario{Executor: PerVUIterations, VUs: 5, Iterations: 4, Steps: get}, indexAndStart},
		// shared iterations: the union of iteration numbers is exact
		{"shared-iterations", Scenario{Executor: SharedIterations, VUs: 4, Iterations: 23, Steps: get}, indexOnly},
	}
}

// segmentKeys runs sc as segment seg under virtual time (each operation
// takes 10 ms) and returns the keys of every operation, sorted.
func segmentKeys(t *testing.T, row segmentRow, seg Segment) []string {
	var keys []string
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		d := driverFunc(func(ctx context.Context, vu *VU, _ *Step, res *Result) {
			mu.Lock()
			keys = append(keys, row.key(vu.Iteration, res.Intended))
			mu.Unlock()
			res.Start = vu.Clock.Now()
			sleepCtx(ctx, 10*time.Millisecond)
			res.End = vu.Clock.Now()
		})
		sc := row.sc
		sc.Name = "s"
		l, err := New([]Scenario{sc}, Config{Drivers: map[Protocol]Driver{HTTP: d}, Sink: &recorder{},
			Seed: 7, Clock: Clock{Epoch: time.Now()}, Logger: zerolog.Nop(), Segment: seg})
		if err != nil {
			t.Fatal(err)
		}
		run(t, l)
	})
	slices.Sort(keys)
	return keys
}

// TestSegmentsUnionIsTheSchedule: for N ∈ {1, 2, 3, 7} workers, every
// executor and constant, ramping and Poisson schedules, the operations of
// the N segments together are exactly those of one process: the same
// arrival indexes at the same intended starts, none twice.
func TestSegmentsUnionIsTheSchedule(t *testing.T) {
	for _, row := range segmentRows() {
		t.Run(row.name, func(t *testing.T) {
			whole := segmentKeys(t, row, Segment{})
			if len(whole) < 20 {
				t.Fatalf("the whole load made %d operations: too few to test", len(whole))
			}
			for _, n := range []int{1, 2, 3, 7} {
				var union []string
				for i := range n {
					union = append(union, segmentKeys(t, row, Segment{i, n})...)
				}
				slices.Sort(union)
				if !slices.Equal(union, whole) {
					t.Errorf("%d workers: union of %d operations differs from the %d of one process", n, len(union), len(whole))
				}
			}
		})
	}
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
