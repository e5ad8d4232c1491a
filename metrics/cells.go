package metrics

import (
	"fmt"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// CellData is what one interval of a Recorder holds for one series, in an
// exact and portable form: the counts, and the timings either as the raw
// samples (latency, service time and the generator's own lateness, in
// microseconds, as a cell keeps them until it has rawLimit) or as the five
// timing histograms, each in HdrHistogram's standard V2 compressed
// encoding. AddCells rebuilds the same cell from it, so a recorder can be
// shipped interval by interval (a worker of a distributed run to its
// coordinator) and merged exactly, bucket for bucket.
type CellData struct {
	Series Selector    `json:"series"`
	Ops    int64       `json:"ops"`
	Conns  int64       `json:"conns,omitempty"`
	Raw    [][3]uint32 `json:"raw,omitempty"`
	Hist   []string    `json:"hist,omitempty"`
}

// Cells returns interval k (the one starting at k·Interval) as CellData,
// one per series with data there; nil when it holds nothing. It reads a
// copy, so the recorder may go on recording, but an interval still being
// recorded is read as it is now.
func (r *Recorder) Cells(k int) ([]CellData, error) {
	b := r.lookup(k)
	if b == nil {
		return nil, nil
	}
	cells := b.snapshot()
	keys := r.series.all()
	var out []CellData
	for id, c := range cells {
		if c == nil {
			continue
		}
		d, err := c.data(keys[id])
		if err != nil {
			return nil, fmt.Errorf("metrics: interval %d, series %+v: %w", k, keys[id], err)
		}
		out = append(out, d)
	}
	return out, nil
}

// AddCells adds cells to interval k, exactly as Merge adds another
// recorder's interval.
func (r *Recorder) AddCells(k int, cells []CellData) error {
	if k < 0 {
		return fmt.Errorf("metrics: add cells to interval %d: want ≥ 0", k)
	}
	for _, d := range cells {
		c, err := d.cell()
		if err != nil {
			return fmt.Errorf("metrics: interval %d, series %+v: %w", k, d.Series, err)
		}
		sid := r.series.id(d.Series)
		r.into(k, func(b *bucket) bool { return b.mergeCell(sid, c) })
	}
	return nil
}

// Last returns the index of the last interval with data, -1 when none.
func (r *Recorder) Last() int { return int(r.last.Load()) }

// SeriesKeys returns the tag set of every series recorded so far.
func (r *Recorder) SeriesKeys() []Selector {
	return append([]Selector(nil), r.series.all()...)
}

// data returns the cell as CellData of series key.
func (c *cell) data(key Selector) (CellData, error) {
	d := CellData{Series: key, Ops: c.ops, Conns: c.conns}
	for _, s := range c.raw {
		d.Raw = append(d.Raw, s)
	}
	if c.hist == nil {
		return d, nil
	}
	for m, h := range c.hist {
		b, err := h.Encode()
		if err != nil {
			return CellData{}, fmt.Errorf("encode timing %d: %w", m, err)
		}
		d.Hist = append(d.Hist, string(b))
	}
	return d, nil
}

// cell returns the cell d describes.
func (d CellData) cell() (*cell, error) {
	c := &cell{ops: d.Ops, conns: d.Conns}
	for _, s := range d.Raw {
		c.raw = append(c.raw, s)
	}
	if len(d.Hist) == 0 {
		return c, nil
	}
	if len(d.Hist) != timings {
		return nil, fmt.Errorf("%d timing histograms, want %d", len(d.Hist), timings)
	}
	c.hist = new([timings]*hdrhistogram.PackedHistogram)
	for m, s := range d.Hist {
		h, err := hdrhistogram.DecodePacked([]byte(s))
		if err != nil {
			return nil, fmt.Errorf("decode timing %d: %w", m, err)
		}
		if h.LowestTrackableValue() != lowestMicros || h.HighestTrackableValue() != highestMicros || h.SignificantFigures() != sigFigs {
			return nil, fmt.Errorf("timing %d: a histogram of another geometry", m)
		}
		c.hist[m] = h
	}
	return c, nil
}
