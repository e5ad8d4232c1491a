package load

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// arrivalScenario is a constant-arrival-rate scenario with one step.
func arrivalScenario(rate float64, d time.Duration, pre, maxVUs int) Scenario {
	return Scenario{
		Name: "open", Executor: ConstantArrivalRate, Rate: rate, Duration: d,
		PreAllocatedVUs: pre, MaxVUs: maxVUs, Steps: []Step{step("get", 0)},
	}
}

// TestArrivalsAtIntendedTimes: every arrival is made at exactly
// StartTime + i·TimeUnit/Rate (virtual time has no scheduling noise), and an
// operation that takes time never delays the next arrival.
func TestArrivalsAtIntendedTimes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := arrivalScenario(10, time.Second, 5, 5)
		sc.StartTime = 2 * time.Second
		l, rec := startLoad(t, sleepDriver(50*time.Millisecond), sc)
		run(t, l)
		rs := rec.results()
		if len(rs) != 10 {
			t.Fatalf("%d results, want 10", len(rs))
		}
		for i, r := range rs {
			want := 2*time.Second + time.Duration(i)*100*time.Millisecond
			if r.Intended != want || r.Dispatched != want || r.Start != want || r.End != want+50*time.Millisecond {
				t.Errorf("arrival %d: intended %v dispatched %v start %v end %v, want intended %v and 50ms service",
					i, r.Intended, r.Dispatched, r.Start, r.End, want)
			}
			if !r.OK() || r.Scenario != "open" || r.Step != "get" || r.Protocol != HTTP {
				t.Errorf("arrival %d: %+v", i, r.Result)
			}
		}
		if got := rec.clock.Now(); got != 2950*time.Millisecond {
			t.Errorf("Run returned at %v, want 2.95s (the last operation's end)", got)
		}
		if s := l.Stats(); s.Started != 10 || s.Completed != 10 || s.Ops != 10 || s.Dropped != 0 || s.ActiveVUs != 0 {
			t.Errorf("stats %+v", s)
		}
	})
}

// TestDroppedWhenAllVUsBusy: when maxVUs are all busy, each further arrival
// is recorded at once, at its own intended time, as class dropped; never
// queued or delayed.
func TestDroppedWhenAllVUsBusy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// arrivals every 100ms, each holding a VU for 1s, 2 preallocated, 3 at most
		l, rec := startLoad(t, sleepDriver(time.Second), arrivalScenario(10, time.Second, 2, 3))
		run(t, l)
		rs := rec.results()
		if len(rs) != 10 {
			t.Fatalf("%d results, want 10", len(rs))
		}
		for i, r := range rs {
			at := time.Duration(i) * 100 * time.Millisecond
			if i < 3 {
				if !r.OK() || r.Intended != at || r.End != at+time.Second {
					t.Errorf("arrival %d should have run: %+v", i, r)
				}
				continue
			}
			if r.Class != ClassDropped || !errors.Is(r.Err, ErrDropped) || r.Step != "" || r.Scenario != "open" {
				t.Errorf("arrival %d should be dropped: %+v", i, r.Result)
			}
			if r.Intended != at || r.Dispatched != at || r.Start != at || r.End != at || r.At != at {
				t.Errorf("arrival %d dropped with times %+v recorded at %v, want all %v", i, r.Result, r.At, at)
			}
		}
		if s := l.Stats(); s.Dropped != 7 || s.Started != 3 || s.Ops != 3 {
			t.Errorf("stats %+v, want 7 dropped, 3 started", s)
		}
	})
}

// TestNewVUsUpToMax: an arrival that finds no idle VU gets a new one while
// fewer than maxVUs exist.
func TestNewVUsUpToMax(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, rec := startLoad(t, sleepDriver(350*time.Millisecond), arrivalScenario(10, time.Second, 0, 10))
		sampled := make(chan int64, 1)
		go func() { // sample in the middle of the run
			time.Sleep(550 * time.Millisecond)
			sampled <- l.Stats().ActiveVUs
		}()
		run(t, l)
		peak := <-sampled
		if n := rec.count(func(r recorded) bool { return r.OK() }); n != 10 {
			t.Errorf("%d arrivals ran, want all 10", n)
		}
		if peak != 4 { // 350ms of work at 100ms spacing: 4 VUs in turn
			t.Errorf("%d VUs allocated, want 4", peak)
		}
	})
}

// TestGracefulStopCancelsAfterBound: after Duration no arrival is made; an
// operation still running is cancelled at Duration + GracefulStop and
// recorded as a timeout, and Run returns then.
func TestGracefulStopCancelsAfterBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := arrivalScenario(2, time.Second, 2, 2)
		sc.GracefulStop = ptr(2 * time.Second)
		l, rec := startLoad(t, sleepDriver(time.Hour), sc)
		run(t, l)
		if got := rec.clock.Now(); got != 3*time.Second {
			t.Errorf("Run returned at %v, want 3s (duration 1s + gracefulStop 2s)", got)
		}
		rs := rec.results()
		if len(rs) != 2 {
			t.Fatalf("%d results, want 2", len(rs))
		}
		for _, r := range rs {
			if r.Class != ClassTimeout || r.End != 3*time.Second {
				t.Errorf("result %+v, want a timeout ended at 3s", r.Result)
			}
		}
		if s := l.Stats(); s.Interrupted != 2 || s.Completed != 0 {
			t.Errorf("stats %+v, want 2 interrupted", s)
		}
	})
}

// TestGracefulStopLetsIterationsFinish: an iteration that ends within the
// graceful stop completes; Run returns when it does, not at the bound.
func TestGracefulStopLetsIterationsFinish(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, rec := startLoad(t, sleepDriver(1500*time.Millisecond), arrivalScenario(1, time.Second, 1, 1))
		run(t, l)
		if got := rec.clock.Now(); got != 1500*time.Millisecond {
			t.Errorf("Run returned at %v, want 1.5s", got)
		}
		if s := l.Stats(); s.Completed != 1 {
			t.Errorf("stats %+v", s)
		}
	})
}

// TestLateScheduleCatchesUp: with an epoch in the past, the arrivals already
// due are made at once with their own intended times, so the lateness shows
// as generator lag, and the later ones keep their places.
func TestLateScheduleCatchesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{clock: Clock{Epoch: time.Now().Add(-450 * time.Millisecond)}}
		l, err := New([]Scenario{arrivalScenario(10, time.Second, 10, 10)},
			Config{Drivers: map[Protocol]Driver{HTTP: nopDriver}, Sink: rec, Clock: rec.clock})
		if err != nil {
			t.Fatal(err)
		}
		run(t, l)
		for i, r := range rec.results() {
			at := time.Duration(i) * 100 * time.Millisecond
			wantLag := max(0, 450*time.Millisecond-at)
			if r.Intended != at || r.GeneratorLag() != wantLag {
				t.Errorf("arrival %d: intended %v lag %v, want %v and %v", i, r.Intended, r.GeneratorLag(), at, wantLag)
			}
		}
	})
}

// TestRunCancelled: cancelling ctx stops the schedule and running
// operations; Run returns the cause only after every VU has exited
// (synctest fails on any goroutine left).
func TestRunCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, rec := startLoad(t, sleepDriver(time.Hour), arrivalScenario(10, time.Minute, 5, 50))
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(1550*time.Millisecond, cancel)
		if err := l.Run(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Run: %v, want context.Canceled", err)
		}
		if got := rec.clock.Now(); got != 1550*time.Millisecond {
			t.Errorf("Run returned at %v, want 1.55s", got)
		}
		if n := len(rec.results()); n != 16 {
			t.Errorf("%d results, want the 16 arrivals made", n)
		}
		if err := l.Run(context.Background()); err == nil {
			t.Error("a second Run should fail")
		}
	})
}

// TestThinkDrawsRepeatWithSeed: think times come from the seed and the
// arrival's index, so two runs with one seed agree, another seed differs.
func TestThinkDrawsRepeatWithSeed(t *testing.T) {
	runOnce := func(seed int64) []time.Duration {
		var out []time.Duration
		synctest.Test(t, func(t *testing.T) {
			sc := arrivalScenario(20, time.Second, 20, 20)
			sc.Steps = []Step{step("a", 0), step("b", 0)}
			sc.Steps[0].Think = Think{0, 100 * time.Millisecond}
			rec := &recorder{clock: Clock{Epoch: time.Now()}}
			l, err := New([]Scenario{sc}, Config{Drivers: map[Protocol]Driver{HTTP: nopDriver}, Sink: rec, Seed: seed})
			if err != nil {
				t.Fatal(err)
			}
			run(t, l)
			for _, r := range rec.results() {
				if r.Step == "b" {
					out = append(out, r.Intended)
				}
			}
		})
		return out
	}
	a, b, c := runOnce(7), runOnce(7), runOnce(8)
	if len(a) != 20 || !equal(a, b) {
		t.Fatalf("same seed, different think times:\n%v\n%v", a, b)
	}
	if equal(a, c) {
		t.Fatalf("seeds 7 and 8 drew the same think times: %v", a)
	}
}

// TestRampingArrivalRate: ramping-arrival-rate makes its arrivals at the
// ramp's instants (from StartTime) whatever the operations take, and drops
// what finds no free VU, as constant-arrival-rate does.
func TestRampingArrivalRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := time.Second
		sc := Scenario{Name: "ramp", Executor: RampingArrivalRate, StartRate: 0, StartTime: s,
			Stages:          []Stage{{2 * s, 4}, {s, 4}}, // N(t) = t² for 2s, then 4/s
			PreAllocatedVUs: 1, MaxVUs: 2, Steps: []Step{step("get", 0)}}
		l, rec := startLoad(t, sleepDriver(1200*time.Millisecond), sc)
		run(t, l)
		want := []time.Duration{0, s, 1414213562, 1732050808, 2 * s, 2250 * time.Millisecond,
			2500 * time.Millisecond, 2750 * time.Millisecond}
		rs := rec.results()
		if len(rs) != len(want) {
			t.Fatalf("%d results, want %d", len(rs), len(want))
		}
		var dropped int
		for i, r := range rs {
			if r.Intended != s+want[i] {
				t.Errorf("arrival %d intended %v, want %v", i, r.Intended, s+want[i])
			}
			if r.Class == ClassDropped {
				dropped++
			}
		}
		// 1.2s per operation, 2 VUs: arrivals 0, 1 run; 2, 3 dropped (both busy);
		// 4 runs (arrival 0's VU is free at 1.2s); 5 runs at 2.25 (arrival 1's VU free at 2.2)...
		if st := l.Stats(); dropped == 0 || st.Dropped != int64(dropped) || st.Started+st.Dropped != 8 {
			t.Errorf("stats %+v with %d dropped results", st, dropped)
		}
		if got, want := rec.clock.Now(), s+2750*time.Millisecond+1200*time.Millisecond; got != want {
			t.Errorf("Run returned at %v, want %v", got, want)
		}
	})
}

// TestPoissonArrivals: arrival: poisson makes the Poisson schedule of the
// scenario's seed, at exactly its instants, and the same seed repeats it.
func TestPoissonArrivals(t *testing.T) {
	runOnce := func(seed int64) []time.Duration {
		var out []time.Duration
		synctest.Test(t, func(t *testing.T) {
			sc := arrivalScenario(100, 2*time.Second, 50, 50)
			sc.Arrival = Poisson
			rec := &recorder{clock: Clock{Epoch: time.Now()}}
			l, err := New([]Scenario{sc}, Config{Drivers: map[Protocol]Driver{HTTP: nopDriver}, Sink: rec, Seed: seed})
			if err != nil {
				t.Fatal(err)
			}
			run(t, l)
			want := arrivals(NewPoissonPacer(ConstantPacer{100, time.Second, 2 * time.Second}, scenarioSeed(seed, "open"), poissonStream))
			for i, r := range rec.results() {
				if i >= len(want) || r.Intended != want[i] || r.Dispatched != want[i] {
					t.Fatalf("arrival %d intended %v dispatched %v, want the schedule's", i, r.Intended, r.Dispatched)
				}
				out = append(out, r.Intended)
			}
			if len(out) != len(want) {
				t.Fatalf("%d arrivals, want %d", len(out), len(want))
			}
		})
		return out
	}
	a, b, c := runOnce(1), runOnce(1), runOnce(2)
	if !equal(a, b) || equal(a, c) {
		t.Fatal("the Poisson schedule does not follow the seed")
	}
	if len(a) < 150 || len(a) > 250 {
		t.Errorf("%d arrivals in 2s at 100/s", len(a))
	}
	evenly := 0
	for i := 1; i < len(a); i++ {
		if a[i]-a[i-1] == 10*time.Millisecond {
			evenly++
		}
	}
	if evenly > len(a)/10 {
		t.Errorf("%d of %d gaps are exactly 10ms: not Poisson", evenly, len(a))
	}
}
