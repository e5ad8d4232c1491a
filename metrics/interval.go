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

// Intervals returns every interval from the start of the load to End, in
// order, empty ones included so that a time series has no holes.
func (r *Recorder) Intervals() []Interval {
	n := int(r.last.Load()) + 1
	out := make([]Interval, n)
	scratch := NewHistogram() // reused: one dense histogram records fastest
	for k := range out {
		out[k].T = time.Duration(k) * r.interval
		if b := r.lookup(k); b != nil {
			b.summarise(&out[k], &r.series, scratch)
		}
	}
	return out
}

// summarise fills iv from the bucket's cells, merging their latencies in
// scratch.
func (b *bucket) summarise(iv *Interval, t *seriesTable, scratch *hdrhistogram.Histogram) {
	scratch.Reset()
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
	if scratch.TotalCount() == 0 {
		return
	}
	p := scratch.ValueAtPercentilesSlice(plotted)
	iv.P50, iv.P95, iv.P99 = Micros(p[0]), Micros(p[1]), Micros(p[2])
}
