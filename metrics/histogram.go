package metrics

import (
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// The geometry of every histogram: values in microseconds from 1 µs to
// 1 h, with 3 significant digits (a value is known to within 0.1%).
const (
	lowestMicros  = 1
	highestMicros = int64(time.Hour / time.Microsecond)
	sigFigs       = 3
)

// NewHistogram returns an empty dense histogram with the recorder's
// geometry (values in microseconds, 1 µs to 1 h, 3 significant digits).
func NewHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(lowestMicros, highestMicros, sigFigs)
}

// newPacked returns an empty sparse histogram with the recorder's geometry.
// A dense histogram of this geometry holds ~184 KB of counters; a packed one
// grows with the buckets actually populated, which is what makes one
// histogram per interval and series affordable.
func newPacked() *hdrhistogram.PackedHistogram {
	return hdrhistogram.NewPacked(lowestMicros, highestMicros, sigFigs)
}

// micros converts d to whole microseconds, clamped to the histogram's range
// so that no value is ever dropped: a negative duration (a clock oddity)
// records as 0, anything beyond an hour as an hour.
func micros(d time.Duration) int64 {
	us := int64(d / time.Microsecond)
	switch {
	case us < 0:
		return 0
	case us > highestMicros:
		return highestMicros
	}
	return us
}

// Micros converts a histogram value (microseconds) back to a duration.
func Micros(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
