package metrics

import (
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Aggregate is what a window of the run holds for the selected series: the
// exact merge of their intervals.
//
// Ops counts every result, dropped arrivals included; Errors those with a
// class; ByClass splits Errors by class (nil when there are none). The
// histograms hold values in microseconds (see Micros) for every result that
// ran, failures included, so Latency.TotalCount() is Ops minus the dropped
// arrivals. Span is the length of time the window covers: the number of
// intervals it merged times the interval, whether or not they held data.
type Aggregate struct {
	Ops, Errors int64
	ByClass     map[string]int64
	Latency     *hdrhistogram.Histogram
	ServiceTime *hdrhistogram.Histogram
	DispatchLag *hdrhistogram.Histogram
	Span        time.Duration
}

func newAggregate(span time.Duration) Aggregate {
	return Aggregate{
		Latency:     NewHistogram(),
		ServiceTime: NewHistogram(),
		DispatchLag: NewHistogram(),
		Span:        span,
	}
}

// ErrorRate returns Errors/Ops, 0 when there are no operations.
func (a Aggregate) ErrorRate() float64 {
	if a.Ops == 0 {
		return 0
	}
	return float64(a.Errors) / float64(a.Ops)
}

// Rate returns operations per second over Span, 0 when Span is zero.
func (a Aggregate) Rate() float64 {
	if a.Span <= 0 {
		return 0
	}
	return float64(a.Ops) / a.Span.Seconds()
}

// Window returns the exact merge of the intervals whose start lies in
// [from, to), over the series sel selects. With intended-start bucketing an
// interval is complete only once every request issued in it has finished;
// the caller chooses windows accordingly.
func (r *Recorder) Window(from, to time.Duration, sel Selector) Aggregate {
	lo, hi := r.span(from, to)
	agg := newAggregate(time.Duration(hi-lo) * r.interval)
	matched := r.series.matching(sel)
	if len(matched) == 0 {
		return agg
	}
	hi = min(hi, int(r.last.Load())+1) // nothing was recorded beyond
	for k := lo; k < hi; k++ {
		if b := r.lookup(k); b != nil {
			b.mergeInto(&agg, matched)
		}
	}
	return agg
}

// span returns the interval indexes [lo, hi) whose start lies in
// [from, to): k·interval ≥ from and k·interval < to.
func (r *Recorder) span(from, to time.Duration) (lo, hi int) {
	lo = max(ceilDiv(from, r.interval), 0)
	hi = max(ceilDiv(to, r.interval), lo)
	return lo, hi
}

// ceilDiv returns ⌈a/b⌉ for b > 0.
func ceilDiv(a, b time.Duration) int {
	q := a / b
	if a%b > 0 {
		q++
	}
	return int(q)
}
