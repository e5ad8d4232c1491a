package metrics

import (
	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/chaosload/chaosload/load"
)

// rawLimit is how many timed results a cell keeps as raw samples before it
// moves them into histograms.
//
// Why: a run holds one cell per interval and series, 48,000 for 10 minutes
// of 20 series, however low the rate. Three PackedHistograms cost ~670 B
// before the first value (each carries its own geometry) and ~5 B per
// populated bucket per metric after; a raw sample costs 12 B for all three
// metrics. So a cell of a few dozen results is several times smaller raw,
// and a busy cell, whose values start sharing buckets, is smaller packed.
// Both give the same aggregates: a raw value lands in the same bucket of a
// window's histogram as it would have in the cell's.
const rawLimit = 256

// sample is one timed result in microseconds (clamped to an hour, so each
// fits 32 bits).
type sample struct{ latency, service, lag uint32 }

// cell is what one interval holds for one series: the operations counted,
// and the timings of those that ran, raw or (past rawLimit) as three
// histograms. The class is part of the series, so a cell's errors are either
// 0 or ops.
type cell struct {
	ops  int64
	raw  []sample
	hist *histograms // nil until the cell outgrows raw
}

// histograms are the three timing distributions of a busy cell.
type histograms struct {
	latency, service, lag *hdrhistogram.PackedHistogram
}

// add records one result. A dropped arrival never ran: it is counted, but
// its times are not measurements and stay out of the timings.
func (c *cell) add(res *load.Result) {
	c.ops++
	if res.Class == load.ClassDropped {
		return
	}
	c.addSample(sample{
		latency: uint32(micros(res.Latency())),
		service: uint32(micros(res.ServiceTime())),
		lag:     uint32(micros(res.DispatchLag())),
	})
}

func (c *cell) addSample(s sample) {
	if c.hist != nil {
		c.hist.record(s)
		return
	}
	c.raw = append(c.raw, s)
	if len(c.raw) >= rawLimit {
		c.pack()
	}
}

// pack moves the raw samples into histograms.
func (c *cell) pack() {
	c.hist = &histograms{latency: newPacked(), service: newPacked(), lag: newPacked()}
	for _, s := range c.raw {
		c.hist.record(s)
	}
	c.raw = nil
}

// record adds one sample. Values are clamped into range, so it cannot fail.
func (h *histograms) record(s sample) {
	_ = h.latency.RecordValue(int64(s.latency))
	_ = h.service.RecordValue(int64(s.service))
	_ = h.lag.RecordValue(int64(s.lag))
}

// clone returns an independent copy.
func (c *cell) clone() *cell {
	out := &cell{ops: c.ops, raw: append([]sample(nil), c.raw...)}
	if c.hist != nil {
		out.hist = &histograms{c.hist.latency.Clone(), c.hist.service.Clone(), c.hist.lag.Clone()}
	}
	return out
}

// merge adds o's counts to c; o must not be shared with c.
func (c *cell) merge(o *cell) {
	c.ops += o.ops
	for _, s := range o.raw {
		c.addSample(s)
	}
	if o.hist == nil {
		return
	}
	if c.hist == nil {
		c.pack()
	}
	c.hist.latency.Merge(o.hist.latency)
	c.hist.service.Merge(o.hist.service)
	c.hist.lag.Merge(o.hist.lag)
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
	for _, s := range c.raw {
		_ = agg.Latency.RecordValue(int64(s.latency))
		_ = agg.ServiceTime.RecordValue(int64(s.service))
		_ = agg.DispatchLag.RecordValue(int64(s.lag))
	}
	if c.hist != nil {
		c.hist.latency.MergeInto(agg.Latency)
		c.hist.service.MergeInto(agg.ServiceTime)
		c.hist.lag.MergeInto(agg.DispatchLag)
	}
}

// latencyInto adds the cell's latencies to h.
func (c *cell) latencyInto(h *hdrhistogram.Histogram) {
	for _, s := range c.raw {
		_ = h.RecordValue(int64(s.latency))
	}
	if c.hist != nil {
		c.hist.latency.MergeInto(h)
	}
}
