package metrics

import (
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/chaosload/chaosload/load"
)

// Interval is one interval of the run over every step operation (kind
// load.KindOp; WebSocket connects and messages are left out): what reports
// plot. The percentiles are of latency (intended start to completion), zero
// when no operation in the interval ran. Conns counts the connections the
// operations established.
type Interval struct {
	// T is the start of the interval, an offset from the load start.
	T             time.Duration
	Ops, Errors   int64
	Conns         int64
	ByClass       map[string]int64
	P50, P95, P99 time.Duration
}

// plotted are the percentiles of Interval.
var plotted = []float64{50, 95, 99}

// Intervals returns every interval of length Step from the start of the
// load to End, in order, empty ones included so that a time series has no
// holes: the recorder's own intervals, or, once part of the run is
// downsampled (Retention), intervals of the past's length throughout.
func (r *Recorder) Intervals() []Interval {
	_, ivs := r.Series()
	return ivs
}

// Series is Intervals with their length, read together (a Compact running
// meanwhile may coarsen Step).
func (r *Recorder) Series() (time.Duration, []Interval) {
	r.compacting.RLock()
	defer r.compacting.RUnlock()
	p := r.past.Load()
	step := 1
	if p != nil {
		step = p.step
	}
	n := ceilDiv(time.Duration(r.last.Load()+1), time.Duration(step))
	out := make([]Interval, n)
	scratch := NewHistogram() // reused: one dense histogram records fastest
	for j := range out {
		out[j].T = time.Duration(j*step) * r.interval
		scratch.Reset()
		for _, b := range r.stepBuckets(p, j, step) {
			b.summarise(&out[j], &r.series, scratch)
		}
		out[j].percentiles(scratch)
	}
	return time.Duration(step) * r.interval, out
}

// stepBuckets returns the buckets of output interval j of step intervals:
// the past's, and the recorder's own for what the past does not hold.
func (r *Recorder) stepBuckets(p *past, j, step int) []*bucket {
	var bs []*bucket
	if j*step < p.end() {
		bs = append(bs, p.buckets[j])
	}
	for k := max(j*step, p.end()); k < (j+1)*step; k++ {
		if b := r.lookup(k); b != nil {
			bs = append(bs, b)
		}
	}
	return bs
}

// percentiles sets the plotted percentiles from the latencies in h.
func (iv *Interval) percentiles(h *hdrhistogram.Histogram) {
	if h.TotalCount() == 0 {
		return
	}
	p := h.ValueAtPercentilesSlice(plotted)
	iv.P50, iv.P95, iv.P99 = Micros(p[0]), Micros(p[1]), Micros(p[2])
}

// summarise adds the bucket's cells to iv, and their latencies to scratch.
func (b *bucket) summarise(iv *Interval, t *seriesTable, scratch *hdrhistogram.Histogram) {
	b.mu.Lock()
	keys := t.all() // after Lock: covers every series with a cell here
	for id, c := range b.cells {
		if c == nil || keys[id].Kind != load.KindOp {
			continue
		}
		iv.Ops += c.ops
		iv.Conns += c.conns
		if class := keys[id].Class; class != "" {
			iv.Errors += c.ops
			if iv.ByClass == nil {
				iv.ByClass = make(map[string]int64)
			}
			iv.ByClass[class] += c.ops
		}
		c.timingInto(timeLatency, scratch)
	}
	b.mu.Unlock()
}
