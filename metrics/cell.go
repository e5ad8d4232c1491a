package metrics

import (
	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/chaosload/chaosload/load"
)

// cell is what one interval holds for one series: the operations counted
// and three sparse histograms, allocated on the first timed result. The
// class is part of the series, so a cell's errors are either 0 or ops.
type cell struct {
	ops     int64
	latency *hdrhistogram.PackedHistogram
	service *hdrhistogram.PackedHistogram
	lag     *hdrhistogram.PackedHistogram
}

// add records one result. A dropped arrival never ran: it is counted, but
// its times are not measurements and stay out of the histograms.
func (c *cell) add(res *load.Result) {
	c.ops++
	if res.Class == load.ClassDropped {
		return
	}
	if c.latency == nil {
		c.latency, c.service, c.lag = newPacked(), newPacked(), newPacked()
	}
	// Values are clamped into range, so recording cannot fail.
	_ = c.latency.RecordValue(micros(res.Latency()))
	_ = c.service.RecordValue(micros(res.ServiceTime()))
	_ = c.lag.RecordValue(micros(res.DispatchLag()))
}

// clone returns an independent copy.
func (c *cell) clone() *cell {
	out := &cell{ops: c.ops}
	if c.latency != nil {
		out.latency, out.service, out.lag = c.latency.Clone(), c.service.Clone(), c.lag.Clone()
	}
	return out
}

// merge adds o's counts to c; o must not be shared with c.
func (c *cell) merge(o *cell) {
	c.ops += o.ops
	if o.latency == nil {
		return
	}
	if c.latency == nil {
		c.latency, c.service, c.lag = newPacked(), newPacked(), newPacked()
	}
	c.latency.Merge(o.latency)
	c.service.Merge(o.service)
	c.lag.Merge(o.lag)
}

// mergeInto adds the cell's counts to agg, for a series of class class.
func (c *cell) mergeInto(agg *Aggregate, class string) {
	agg.Ops += c.ops
	if class != "" {
		agg.Errors += c.ops
		if agg.ByClass == nil {
			agg.ByClass = make(map[string]int64)
		}
		agg.ByClass[class] += c.ops
	}
	if c.latency != nil {
		c.latency.MergeInto(agg.Latency)
		c.service.MergeInto(agg.ServiceTime)
		c.lag.MergeInto(agg.DispatchLag)
	}
}
