package load

import (
	"math"
	"math/rand/v2"
	"time"
)

// Pacer is the schedule of an open-model scenario: Arrival returns the
// intended offset of arrival i from the scenario's start, and false once the
// schedule has no arrival i. The scheduler calls it with i = 0, 1, 2, … in
// order, so a pacer may keep state (a Poisson pacer sums its gaps). A
// worker of a distributed run walks the same global schedule and offers
// only its own arrivals (see Segment).
type Pacer interface {
	Arrival(i int64) (time.Duration, bool)
}

// ConstantPacer spaces Rate arrivals per TimeUnit evenly over Duration:
//
//	t_i = ⌊ i · TimeUnit / Rate ⌋        for every t_i < Duration
//
// Each offset is computed from i alone, never from the previous arrival, so
// rounding never accumulates into drift. A whole Rate is computed exactly
// with a 128-bit product; a fractional one in float64 (error under 1 µs for
// the first 10⁹ arrivals).
type ConstantPacer struct {
	Rate     float64
	TimeUnit time.Duration
	Duration time.Duration
}

// Arrival implements Pacer.
func (p ConstantPacer) Arrival(i int64) (time.Duration, bool) {
	var t time.Duration
	if r := p.Rate; r == math.Trunc(r) && r >= 1 && r < 1<<53 {
		t = mulDiv(i, int64(p.TimeUnit), int64(r))
	} else {
		t = time.Duration(float64(i) * float64(p.TimeUnit) / r)
	}
	return t, t < p.Duration
}

// Curve is the expected arrival count of a schedule, inverted: TimeAt
// returns the offset from the scenario's start at which n arrivals are
// expected (the rate integrated from the start reaches n), and false when
// that is at or after the schedule's end. n never decreases between calls
// made in order, which a Curve may use to keep a cursor.
type Curve interface {
	TimeAt(n float64) (time.Duration, bool)
}

// TimeAt implements Curve: t = n · TimeUnit / Rate.
func (p ConstantPacer) TimeAt(n float64) (time.Duration, bool) {
	t := time.Duration(n * float64(p.TimeUnit) / p.Rate)
	return t, t < p.Duration && n >= 0
}

// RampingPacer is the schedule of ramping-arrival-rate: the rate (per
// TimeUnit) starts at StartRate and moves linearly to each stage's Target
// over the stage's Duration (a stage of zero duration jumps). Within a stage
// from rate r₀ to r₁ (per second) over d seconds, starting at t₀ with n₀
// arrivals expected so far, the expected count is
//
//	N(t₀+τ) = n₀ + r₀·τ + (r₁−r₀)·τ² / (2d)
//
// and arrival i is at the τ where N = i, the positive root written so that
// it stays exact when r₁ = r₀ and when r₀ = 0:
//
//	τ = 2c / (r₀ + √(r₀² + 2c·(r₁−r₀)/d)),   c = i − n₀
//
// Every offset is computed from i (no accumulated rounding); arrival 0 is at
// the start. Make it with NewRampingPacer.
type RampingPacer struct {
	segs []rampSegment
	cur  int
}

// rampSegment is one stage in seconds from the scenario's start.
type rampSegment struct {
	t0, d  float64 // start and length (s)
	r0, r1 float64 // rates at start and end (per second)
	n0, n1 float64 // expected arrivals at start and end
}

// NewRampingPacer returns the schedule of a ramp from startRate through
// stages, rates per timeUnit.
func NewRampingPacer(startRate float64, stages []Stage, timeUnit time.Duration) *RampingPacer {
	p := &RampingPacer{}
	per := float64(time.Second) / float64(timeUnit)
	r0, t0, n0 := startRate*per, 0.0, 0.0
	for _, st := range stages {
		d := st.Duration.Seconds()
		r1 := float64(st.Target) * per
		n1 := n0 + (r0+r1)/2*d
		p.segs = append(p.segs, rampSegment{t0: t0, d: d, r0: r0, r1: r1, n0: n0, n1: n1})
		r0, t0, n0 = r1, t0+d, n1
	}
	return p
}

// Arrival implements Pacer.
func (p *RampingPacer) Arrival(i int64) (time.Duration, bool) { return p.TimeAt(float64(i)) }

// TimeAt implements Curve.
func (p *RampingPacer) TimeAt(n float64) (time.Duration, bool) {
	if p.cur >= len(p.segs) || n < p.segs[p.cur].n0 {
		p.cur = 0 // called out of order: search from the start
	}
	for p.cur < len(p.segs) && (n >= p.segs[p.cur].n1 || p.segs[p.cur].d == 0) {
		p.cur++
	}
	if p.cur == len(p.segs) || n < 0 {
		return 0, false
	}
	s := p.segs[p.cur]
	c := n - s.n0
	tau := 0.0
	if den := s.r0 + math.Sqrt(max(0, s.r0*s.r0+2*c*(s.r1-s.r0)/s.d)); den > 0 {
		tau = 2 * c / den
	}
	end := p.segs[len(p.segs)-1]
	t := time.Duration(math.Round((s.t0 + tau) * float64(time.Second)))
	return t, t < time.Duration(math.Round((end.t0+end.d)*float64(time.Second)))
}

// PoissonPacer turns a Curve's mean rate into a Poisson process: the gaps
// between arrivals, measured in expected arrivals, are independent Exp(1)
// draws, so arrival i is at Curve.TimeAt(E₀ + … + Eᵢ). For a constant rate
// that is exponential gaps of mean TimeUnit/Rate; for a ramp it is the
// non-homogeneous process of the same rate (time rescaling). The draws come
// from a seeded source, so a seed repeats the schedule; every offset is
// absolute, from the scenario's start. Arrival must be called with
// i = 0, 1, 2, … in order.
type PoissonPacer struct {
	curve Curve
	rng   *rand.Rand
	sum   float64
}

// NewPoissonPacer returns the Poisson process of curve's rate, drawn from
// (seed, stream).
func NewPoissonPacer(curve Curve, seed, stream uint64) *PoissonPacer {
	return &PoissonPacer{curve: curve, rng: rand.New(rand.NewPCG(seed, stream))}
}

// Arrival implements Pacer.
func (p *PoissonPacer) Arrival(int64) (time.Duration, bool) {
	p.sum += p.rng.ExpFloat64()
	return p.curve.TimeAt(p.sum)
}
