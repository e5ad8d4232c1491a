package load

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func TestConstantPacer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    ConstantPacer
		want []time.Duration // every arrival, in order
	}{
		// whole rate: exact integer spacing
		{"10 per second", ConstantPacer{10, time.Second, 500 * time.Millisecond},
			[]time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond, 400 * time.Millisecond}},
		// a period that does not divide: floor of i·unit/rate, no drift
		{"3 per second", ConstantPacer{3, time.Second, time.Second},
			[]time.Duration{0, 333333333, 666666666}},
		// fractional rate goes through float64
		{"1.5 per second", ConstantPacer{1.5, time.Second, 2 * time.Second},
			[]time.Duration{0, 666666666, 1333333333}},
		// a timeUnit other than 1s
		{"6 per minute", ConstantPacer{6, time.Minute, 30 * time.Second},
			[]time.Duration{0, 10 * time.Second, 20 * time.Second}},
		// the end is exclusive: an arrival at exactly Duration is not made
		{"end exclusive", ConstantPacer{2, time.Second, time.Second},
			[]time.Duration{0, 500 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []time.Duration
			for i := int64(0); ; i++ {
				at, ok := tt.p.Arrival(i)
				if !ok {
					break
				}
				got = append(got, at)
			}
			if !equal(got, tt.want) {
				t.Fatalf("arrivals %v, want %v", got, tt.want)
			}
		})
	}
}

// TestConstantPacerNoDrift checks a far arrival against exact arithmetic:
// computing from i, not from the previous arrival, keeps it exact.
func TestConstantPacerNoDrift(t *testing.T) {
	t.Parallel()
	p := ConstantPacer{Rate: 7, TimeUnit: time.Second, Duration: 1 << 62}
	const i = 7 * 3600 * 24 * 365 // a year of arrivals at 7/s
	at, _ := p.Arrival(i)
	if want := 365 * 24 * time.Hour; at != want {
		t.Fatalf("arrival %d at %v, want %v", i, at, want)
	}
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func BenchmarkConstantPacer(b *testing.B) {
	b.ReportAllocs()
	p := ConstantPacer{Rate: 5000, TimeUnit: time.Second, Duration: time.Hour}
	for i := range b.N {
		p.Arrival(int64(i))
	}
}

// arrivals lists every arrival of p.
func arrivals(p Pacer) []time.Duration {
	var got []time.Duration
	for i := int64(0); ; i++ {
		at, ok := p.Arrival(i)
		if !ok {
			return got
		}
		got = append(got, at)
	}
}

func TestRampingPacer(t *testing.T) {
	t.Parallel()
	s := time.Second
	ms := time.Millisecond
	tests := []struct {
		name   string
		start  float64
		stages []Stage
		unit   time.Duration
		want   []time.Duration
	}{
		// a flat stage is the constant schedule: 4/s for 1s
		{"flat", 4, []Stage{{s, 4}}, s, []time.Duration{0, 250 * ms, 500 * ms, 750 * ms}},
		// 0 → 4/s over 2s: N(t) = t², so arrival i at √i s
		{"ramp up from 0", 0, []Stage{{2 * s, 4}}, s,
			[]time.Duration{0, s, 1414213562, 1732050808}},
		// 4/s → 0 over 2s: N(t) = 4t − t², so arrival i at 2 − √(4−i)
		{"ramp down to 0", 4, []Stage{{2 * s, 0}}, s,
			[]time.Duration{0, 267949192, 585786438, s}},
		// a zero-length stage jumps: 2/s for 1s, then 4/s for 1s
		{"jump", 2, []Stage{{s, 2}, {0, 4}, {s, 4}}, s,
			[]time.Duration{0, 500 * ms, s, 1250 * ms, 1500 * ms, 1750 * ms}},
		// a stage at rate 0 makes no arrival; the next stage goes on from its count
		{"pause", 2, []Stage{{s, 2}, {0, 0}, {s, 0}, {0, 2}, {s, 2}}, s,
			[]time.Duration{0, 500 * ms, 2 * s, 2500 * ms}},
		// ramps join: 2/s down to 0 over 1s (one more arrival, at its end), then up
		{"down and up", 2, []Stage{{s, 2}, {s, 0}, {0, 2}, {s, 2}}, s,
			[]time.Duration{0, 500 * ms, s, 2 * s, 2500 * ms}},
		// rates are per timeUnit: 120 per minute is 2/s
		{"per minute", 120, []Stage{{s, 120}}, time.Minute, []time.Duration{0, 500 * ms}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := arrivals(NewRampingPacer(tt.start, tt.stages, tt.unit))
			if !equal(got, tt.want) {
				t.Fatalf("arrivals %v, want %v", got, tt.want)
			}
		})
	}
}

// TestRampingPacerMatchesConstant: a flat ramp is exactly the constant
// schedule (to the nanosecond, rounding aside) over many arrivals, so a
// ramp does not drift.
func TestRampingPacerMatchesConstant(t *testing.T) {
	t.Parallel()
	r := NewRampingPacer(5000, []Stage{{time.Hour, 5000}}, time.Second)
	c := ConstantPacer{5000, time.Second, time.Hour}
	for _, i := range []int64{0, 1, 4999, 5000, 12_345_678, 17_999_999} {
		a, _ := r.Arrival(i)
		b, _ := c.Arrival(i)
		if d := a - b; d < -1 || d > 1 {
			t.Errorf("arrival %d: ramp %v, constant %v", i, a, b)
		}
	}
	if _, ok := r.Arrival(18_000_000); ok {
		t.Error("arrival at the end of the ramp made; the end is exclusive")
	}
}

// TestPoissonPacer: exponential gaps with the mean of the rate, seeded
// (the same seed repeats the schedule, another does not), and an absolute
// schedule: arrival i is at TimeAt of the sum of i+1 draws.
func TestPoissonPacer(t *testing.T) {
	t.Parallel()
	const rate, n = 1000, 200_000
	base := ConstantPacer{rate, time.Second, time.Hour}
	got := arrivals(&limited{NewPoissonPacer(base, 7, poissonStream), n})
	again := arrivals(&limited{NewPoissonPacer(base, 7, poissonStream), n})
	other := arrivals(&limited{NewPoissonPacer(base, 8, poissonStream), n})
	if !equal(got, again) || equal(got[:10], other[:10]) {
		t.Fatal("the schedule does not follow the seed")
	}
	var sum, sumSq float64
	prev := time.Duration(0)
	for _, at := range got {
		g := float64(at-prev) / float64(time.Millisecond)
		sum, sumSq = sum+g, sumSq+g*g
		prev = at
	}
	mean := sum / n
	cv := math.Sqrt(sumSq/n-mean*mean) / mean
	if mean < 0.99 || mean > 1.01 || cv < 0.98 || cv > 1.02 {
		t.Errorf("gap mean %.4fms, coefficient of variation %.4f; want 1ms and 1 (exponential)", mean, cv)
	}
	// absolute: the last arrival is where the sum of the draws puts it
	rng := rand.New(rand.NewPCG(7, poissonStream))
	var s float64
	for range n {
		s += rng.ExpFloat64()
	}
	if want, _ := base.TimeAt(s); got[n-1] != want {
		t.Errorf("arrival %d at %v, want %v", n-1, got[n-1], want)
	}
}

// TestPoissonRamp: a Poisson ramp has the ramp's expected count in each
// second (within 5 standard deviations).
func TestPoissonRamp(t *testing.T) {
	t.Parallel()
	// 0 → 2000/s over 10s: second k expects 200k + 100 arrivals
	got := arrivals(NewPoissonPacer(NewRampingPacer(0, []Stage{{10 * time.Second, 2000}}, time.Second), 3, poissonStream))
	per := make([]int, 10)
	for _, at := range got {
		per[at/time.Second]++
	}
	for k, n := range per {
		want := 200*float64(k) + 100
		if math.Abs(float64(n)-want) > 5*math.Sqrt(want) {
			t.Errorf("second %d: %d arrivals, want about %.0f", k, n, want)
		}
	}
}

// limited stops a pacer after n arrivals.
type limited struct {
	p Pacer
	n int64
}

func (l *limited) Arrival(i int64) (time.Duration, bool) {
	if i >= l.n {
		return 0, false
	}
	return l.p.Arrival(i)
}
