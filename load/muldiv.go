package load

import (
	"math"
	"math/bits"
	"time"
)

// mulDiv returns ⌊a·b / c⌋ for non-negative a, b and positive c, exact
// through a 128-bit product, saturating at the largest Duration.
func mulDiv(a, b, c int64) time.Duration {
	q, _ := mulDivRem(a, b, c)
	return q
}

// mulDivCeil returns ⌈a·b / c⌉, as mulDiv does ⌊a·b / c⌋.
func mulDivCeil(a, b, c int64) time.Duration {
	q, r := mulDivRem(a, b, c)
	if r != 0 && q < math.MaxInt64 {
		q++
	}
	return q
}

// mulDivRem returns the quotient (saturated) and remainder of a·b / c.
func mulDivRem(a, b, c int64) (time.Duration, uint64) {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi >= uint64(c) {
		return math.MaxInt64, 0
	}
	q, r := bits.Div64(hi, lo, uint64(c))
	if q > math.MaxInt64 {
		return math.MaxInt64, 0
	}
	return time.Duration(q), r
}
