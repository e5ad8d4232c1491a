package metrics

import (
	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/chaosload/chaosload/load"
)

// rawLimit is how many timed results a cell keeps as raw samples before it
// moves them into histograms.
//
// Why: a run holds one cell per interval and series, 48,000 for 10 minutes
// of 20 series, however low the rate. Five PackedHistograms cost ~3.3 KB
// before the first value (each carries its own geometry) and ~5 B per
// populated bucket per timing after; a raw sample costs 12 B for all five
// timings. So a cell of a few dozen results is many times smaller raw,
// and a busy cell, whose values start sharing buckets, is smaller packed.
// Both give the same aggregates: a raw value lands in the same bucket of a
// window's histogram as it would have in the cell's.
const rawLimit = 256

// The timings of a result, indexes of a cell's histograms. The last two
// are latency and dispatch lag less the generator's own lateness: what the
// operation would have measured had the generator been on time.
const (
	timeLatency    = iota // intended start → completion
	timeService           // actual send → completion
	timeLag               // intended start → actual send (dispatch lag)
	timeNetLatency        // latency less own lateness
	timeNetLag            // dispatch lag less own lateness
	timings
)

// The fields of a sample.
const (
	rawLatency  = iota // latency
	rawService         // service time
	rawLateness        // the generator's own lateness
	rawFields
)

// sample is one timed result: latency, service time and the generator's
// own lateness in whole microseconds (clamped to an hour, so each fits 32
// bits). The other timings are derived from them: dispatch lag is latency
// less service time (within 1 µs of the lag measured on its own, as the two
// are truncated apart), and the timings less lateness subtract it. Twelve
// bytes hold all five timings.
type sample [rawFields]uint32

// sampleOf returns the sample of a timed result.
func sampleOf(res *load.Result) sample {
	return sample{
		rawLatency:  uint32(micros(res.Latency())),
		rawService:  uint32(micros(res.ServiceTime())),
		rawLateness: uint32(micros(res.OwnLateness())),
	}
}

// timing returns timing m of the sample, in microseconds; a difference
// never goes below 0. Raw and packed cells compute every timing here alike.
func (s sample) timing(m int) int64 {
	lat, svc, late := s[rawLatency], s[rawService], s[rawLateness]
	lag := lat - min(svc, lat)
	switch m {
	case timeLatency:
		return int64(lat)
	case timeService:
		return int64(svc)
	case timeLag:
		return int64(lag)
	case timeNetLatency:
		return int64(lat - min(late, lat))
	}
	return int64(lag - min(late, lag)) // timeNetLag
}

// cell is what one interval holds for one series: the results counted, the
// connections they established, and the timings of those timed, raw or
// (past rawLimit) as histograms. The class is part of the series, so a
// cell's errors are either 0 or ops.
type cell struct {
	ops   int64
	conns int64
	raw   []sample
	hist  *[timings]*hdrhistogram.PackedHistogram // nil until the cell outgrows raw
}

// add records one result. A dropped arrival never ran, and an untimed
// result (a received message) has no duration: both are counted, but their
// times are not measurements and stay out of the timings.
func (c *cell) add(res *load.Result) {
	c.ops++
	c.conns += int64(res.NewConns)
	if res.Class == load.ClassDropped || res.Untimed {
		return
	}
	c.addSample(sampleOf(res))
}

func (c *cell) addSample(s sample) {
	if c.hist != nil {
		c.record(s)
		return
	}
	c.raw = append(c.raw, s)
	if len(c.raw) >= rawLimit {
		c.pack()
	}
}

// pack moves the raw samples into histograms.
func (c *cell) pack() {
	c.hist = new([timings]*hdrhistogram.PackedHistogram)
	for m := range c.hist {
		c.hist[m] = newPacked()
	}
	for _, s := range c.raw {
		c.record(s)
	}
	c.raw = nil
}

// record adds one sample to the histograms. Values are clamped into range,
// so it cannot fail.
func (c *cell) record(s sample) {
	for m, h := range c.hist {
		_ = h.RecordValue(s.timing(m))
	}
}

// clone returns an independent copy.
func (c *cell) clone() *cell {
	out := &cell{ops: c.ops, conns: c.conns, raw: append([]sample(nil), c.raw...)}
	if c.hist != nil {
		out.hist = new([timings]*hdrhistogram.PackedHistogram)
		for m, h := range c.hist {
			out.hist[m] = h.Clone()
		}
	}
	return out
}

// merge adds o's counts to c; o must not be shared with c.
func (c *cell) merge(o *cell) {
	c.ops += o.ops
	c.conns += o.conns
	for _, s := range o.raw {
		c.addSample(s)
	}
	if o.hist == nil {
		return
	}
	if c.hist == nil {
		c.pack()
	}
	for m, h := range c.hist {
		h.Merge(o.hist[m])
	}
}

// mergeInto adds the cell's counts to agg, for a series of class class, and
// its timings, as the view maps them, to the histograms agg has.
func (c *cell) mergeInto(agg *Aggregate, class string, v view) {
	agg.Ops += c.ops
	agg.Conns += c.conns
	if class != "" {
		agg.Errors += c.ops
		if agg.ByClass == nil {
			agg.ByClass = make(map[string]int64)
		}
		agg.ByClass[class] += c.ops
	}
	for slot, h := range [slots]*hdrhistogram.Histogram{agg.Latency, agg.ServiceTime, agg.DispatchLag} {
		if h != nil {
			c.timingInto(v[slot], h)
		}
	}
}

// timingInto adds the cell's values of timing m to h.
func (c *cell) timingInto(m int, h *hdrhistogram.Histogram) {
	for _, s := range c.raw {
		_ = h.RecordValue(s.timing(m))
	}
	if c.hist != nil {
		c.hist[m].MergeInto(h)
	}
}
