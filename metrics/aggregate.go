package metrics

import (
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Aggregate is what a window of the run holds for the selected series: the
// exact merge of their intervals.
//
// Ops counts every result, dropped arrivals included; Errors those with a
// class; ByClass splits Errors by class (empty, maybe nil, when none); Conns
// sums the connections the results established. The histograms hold values
// in microseconds (see Micros) for every timed result, failures included,
// so Latency.TotalCount() is Ops minus the dropped arrivals and untimed
// results. Span is the length of time the window covers: the number of
// intervals it merged times the interval (a past interval counting at its
// own length, see Retention), whether or not they held data.
type Aggregate struct {
	Ops, Errors int64
	Conns       int64
	ByClass     map[string]int64
	Latency     *hdrhistogram.Histogram
	ServiceTime *hdrhistogram.Histogram
	DispatchLag *hdrhistogram.Histogram
	Span        time.Duration
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
// the caller chooses windows accordingly. Where the window reaches into the
// downsampled past (Retention), it takes every past interval it overlaps,
// whole.
func (r *Recorder) Window(from, to time.Duration, sel Selector) Aggregate {
	agg := Aggregate{Latency: NewHistogram(), ServiceTime: NewHistogram(), DispatchLag: NewHistogram()}
	r.WindowInto(&agg, from, to, sel)
	return agg
}

// WindowInto is Window into agg, for callers that aggregate many windows in
// a row: it resets agg's counts and the histograms agg holds and fills
// those, leaving nil histograms nil. A dense histogram is ~184 KB; reusing
// it spares an allocation and the garbage collection that follows, and
// leaving out the ones not needed (an error rate needs none) spares the
// merging too.
func (r *Recorder) WindowInto(agg *Aggregate, from, to time.Duration, sel Selector) {
	r.windowInto(agg, from, to, sel, asMeasured)
}

// windowInto is WindowInto, with the histograms filled as v maps them,
// over the past's intervals and the recent ones alike.
func (r *Recorder) windowInto(agg *Aggregate, from, to time.Duration, sel Selector, v view) {
	r.compacting.RLock()
	defer r.compacting.RUnlock()
	lo, hi := r.span(from, to)
	old, oldSpan, end := r.pastGroups(lo, hi)
	lo = max(lo, end)
	agg.reset(oldSpan + time.Duration(max(hi-lo, 0))*r.interval)
	matched := r.series.matching(sel)
	if len(matched) == 0 {
		return
	}
	for _, b := range old {
		b.mergeInto(agg, matched, v)
	}
	hi = min(hi, int(r.last.Load())+1) // nothing was recorded beyond
	for k := lo; k < hi; k++ {
		if b := r.lookup(k); b != nil {
			b.mergeInto(agg, matched, v)
		}
	}
}

// reset empties a for a window of length span, keeping its histograms.
func (a *Aggregate) reset(span time.Duration) {
	a.Ops, a.Errors, a.Conns, a.Span = 0, 0, 0, span
	clear(a.ByClass)
	for _, h := range []*hdrhistogram.Histogram{a.Latency, a.ServiceTime, a.DispatchLag} {
		if h != nil {
			h.Reset()
		}
	}
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
