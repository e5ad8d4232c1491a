package load

import (
	"math"
	"time"
)

// Pacer is the schedule of an open-model scenario: Arrival returns the
// intended offset of arrival i from the scenario's start, and false once the
// schedule has no arrival i. The scheduler calls it with i = 0, 1, 2, … in
// order, so a pacer may keep state (a Poisson pacer sums its gaps); a pacer
// that stripes indices across workers (DESIGN §8) wraps another.
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
