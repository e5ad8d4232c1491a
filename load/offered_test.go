package load

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"
)

// stallLoad is startLoad with Config.Stall set.
func stallLoad(tb testing.TB, d Driver, stall func(string, int64) time.Duration, scenarios ...Scenario) (*Load, *recorder) {
	tb.Helper()
	rec := &recorder{clock: Clock{Epoch: time.Now()}}
	l, err := New(scenarios, Config{
		Drivers: map[Protocol]Driver{HTTP: d}, Sink: rec, Seed: 1, Clock: rec.clock, Logger: zerolog.Nop(), Stall: stall,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return l, rec
}

// stallAt stalls arrival i of every scenario by d.
func stallAt(i int64, d time.Duration) func(string, int64) time.Duration {
	return func(_ string, arrival int64) time.Duration {
		if arrival == i {
			return d
		}
		return 0
	}
}

// TestStallIsOwnLateness: a stall of the scheduler before arrival 3 makes
// that arrival's operation late by exactly the stall, as generator lag;
// latency less that lateness is the driver's time alone; the arrivals due
// during the stall are late by what remained of it; the others are on time.
func TestStallIsOwnLateness(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// arrivals every 20ms; arrival 3 (at 60ms) stalled 50ms: arrivals 4 and
		// 5 (80ms, 100ms) fall due meanwhile and go at 110ms too
		l, rec := stallLoad(t, sleepDriver(time.Millisecond), stallAt(3, 50*time.Millisecond), arrivalScenario(50, 200*time.Millisecond, 10, 10))
		run(t, l)
		rs := rec.results()
		if len(rs) != 10 {
			t.Fatalf("%d results, want 10", len(rs))
		}
		want := map[int]time.Duration{3: 50 * time.Millisecond, 4: 30 * time.Millisecond, 5: 10 * time.Millisecond}
		for i, r := range rs {
			if r.OwnLateness() != want[i] || r.GeneratorLag() != want[i] {
				t.Errorf("arrival %d: own lateness %v, generator lag %v, want %v", i, r.OwnLateness(), r.GeneratorLag(), want[i])
			}
			if r.Latency() != want[i]+time.Millisecond || r.Latency()-r.OwnLateness() != time.Millisecond {
				t.Errorf("arrival %d: latency %v, less own lateness %v; want 1ms more than the lateness",
					i, r.Latency(), r.Latency()-r.OwnLateness())
			}
		}
		if h := l.Health(); h.LagMax != 50*time.Millisecond || h.LagP50 != 0 || h.Ops != 10 {
			t.Errorf("health %+v, want lag max 50ms, p50 0, 10 ops", h)
		}
	})
}

// TestOfferedShortfall: when the generator reaches arrivals only after the
// scenario's stop, they are counted as not made, in the span of their
// intended times; arrivals dropped for want of a VU are made (the target's
// doing), and a schedule run in full misses nothing.
func TestOfferedShortfall(t *testing.T) {
	for _, tt := range []struct {
		name   string
		stall  func(string, int64) time.Duration
		maxVUs int
		driver time.Duration
		first  Offer // arrivals intended in [0, 500ms)
		second Offer // in [500ms, 1s)
	}{
		// no stall: every arrival made
		{"on time", nil, 10, time.Millisecond, Offer{"open", 5, 0}, Offer{"open", 5, 0}},
		// arrival 6 (at 600ms) stalled 2s, past the stop at 1s: 6..9 never made
		{"stalled past the stop", stallAt(6, 2*time.Second), 10, time.Millisecond, Offer{"open", 5, 0}, Offer{"open", 5, 4}},
		// one VU busy for 1s: arrivals 1..9 dropped, made all the same
		{"dropped", nil, 1, time.Second, Offer{"open", 5, 0}, Offer{"open", 5, 0}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sc := arrivalScenario(10, time.Second, 1, tt.maxVUs)
				sc.GracefulStop = ptr(time.Duration(0))
				l, _ := stallLoad(t, sleepDriver(tt.driver), tt.stall, sc)
				run(t, l)
				if got := l.Offered(0, 500*time.Millisecond); len(got) != 1 || got[0] != tt.first {
					t.Errorf("first half offered %+v, want %+v", got, tt.first)
				}
				if got := l.Offered(500*time.Millisecond, time.Second); len(got) != 1 || got[0] != tt.second {
					t.Errorf("second half offered %+v, want %+v", got, tt.second)
				}
			})
		})
	}
}

// TestOfferedOpenModelOnly: closed-model scenarios have no schedule to
// fall short of.
func TestOfferedOpenModelOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		closed := Scenario{Name: "closed", Executor: ConstantVUs, VUs: 1, Duration: 100 * time.Millisecond,
			Steps: []Step{step("get", 10*time.Millisecond)}}
		l, _ := startLoad(t, nopDriver, closed, arrivalScenario(10, 100*time.Millisecond, 1, 1))
		run(t, l)
		if got := l.Offered(0, time.Second); len(got) != 1 || got[0] != (Offer{"open", 1, 0}) {
			t.Fatalf("offered %+v, want only the open scenario's single arrival", got)
		}
	})
}
