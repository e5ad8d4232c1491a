package slo

import (
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/chaosload/chaosload/metrics"
)

// intoSource is a Source that can aggregate into histograms the caller
// holds (*metrics.Recorder does), building only those: an error rate needs
// none, a percentile one, and each is ~184 KB that would otherwise be
// allocated per window and collected after.
type intoSource interface {
	WindowInto(agg *metrics.Aggregate, from, to time.Duration, sel metrics.Selector)
}

// parts says which histograms an evaluation needs.
type parts uint8

const (
	needLatency parts = 1 << iota
	needServiceTime
	needDispatchLag
	needAll = needLatency | needServiceTime | needDispatchLag
)

// windowSet evaluates thresholds over one window [from, to), aggregating a
// selector once for every threshold that can share it (latency and errors of
// the same tags share one aggregate). Its histograms come from pool and go
// back with release.
type windowSet struct {
	src      Source
	from, to time.Duration
	pool     *histPool
	aggs     []windowAgg
}

// windowAgg is one aggregate of a windowSet, with the parts it has.
type windowAgg struct {
	sel   metrics.Selector
	parts parts
	agg   metrics.Aggregate
}

// newWindowSet returns a set over [from, to); pool may be nil.
func newWindowSet(src Source, from, to time.Duration, pool *histPool) *windowSet {
	return &windowSet{src: src, from: from, to: to, pool: pool}
}

// get returns the aggregate of sel over the window, with at least need.
func (w *windowSet) get(sel metrics.Selector, need parts) metrics.Aggregate {
	for _, a := range w.aggs {
		if a.sel == sel && a.parts&need == need {
			return a.agg
		}
	}
	a := windowAgg{sel: sel, parts: need}
	if is, ok := w.src.(intoSource); ok {
		a.agg = metrics.Aggregate{
			Latency:     w.pool.get(need&needLatency != 0),
			ServiceTime: w.pool.get(need&needServiceTime != 0),
			DispatchLag: w.pool.get(need&needDispatchLag != 0),
		}
		is.WindowInto(&a.agg, w.from, w.to, sel)
	} else {
		a.parts, a.agg = needAll, w.src.Window(w.from, w.to, sel)
	}
	w.aggs = append(w.aggs, a)
	return a.agg
}

// release gives the set's histograms back to its pool; the set's
// aggregates must not be read after.
func (w *windowSet) release() {
	for _, a := range w.aggs {
		w.pool.put(a.agg.Latency, a.agg.ServiceTime, a.agg.DispatchLag)
	}
	w.aggs = nil
}

// histPool is a free list of dense histograms, reused from one window to
// the next. A nil pool allocates every time.
type histPool struct{ free []*hdrhistogram.Histogram }

// get returns an empty histogram when want, else nil.
func (p *histPool) get(want bool) *hdrhistogram.Histogram {
	if !want {
		return nil
	}
	if p == nil || len(p.free) == 0 {
		return metrics.NewHistogram()
	}
	h := p.free[len(p.free)-1]
	p.free = p.free[:len(p.free)-1]
	return h // WindowInto resets it
}

// put returns histograms to the pool; nil ones are skipped.
func (p *histPool) put(hs ...*hdrhistogram.Histogram) {
	if p == nil {
		return
	}
	for _, h := range hs {
		if h != nil {
			p.free = append(p.free, h)
		}
	}
}
