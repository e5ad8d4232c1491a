package metrics

import (
	"fmt"
	"time"
)

// Merge adds everything o recorded to r, exactly: counts add, histograms
// merge bucket by bucket, so r answers every window as if it had recorded
// o's results itself (how the results of distributed workers combine). Both
// must use the same interval. o may still be recording, but what it records
// during the merge may be missed.
func (r *Recorder) Merge(o *Recorder) error {
	if o == r {
		return fmt.Errorf("metrics: merge a recorder into itself")
	}
	if o.interval != r.interval {
		return fmt.Errorf("metrics: merge recorders of different intervals (%v into %v)", o.interval, r.interval)
	}
	o.compacting.RLock()
	defer o.compacting.RUnlock()
	if p := o.past.Load(); p != nil {
		return fmt.Errorf("metrics: merge a recorder that downsampled its past (%v intervals)", time.Duration(p.step)*o.interval)
	}
	n := int(o.last.Load()) + 1
	for k := 0; k < n; k++ {
		ob := o.lookup(k)
		if ob == nil {
			continue
		}
		// Copy o's cells out under o's lock, then add them under r's: never
		// holding both, so concurrent merges in both directions cannot deadlock.
		cells := ob.snapshot()
		keys := o.series.all()
		r.mergeCells(k, cells, keys)
	}
	return nil
}

// mergeCells adds the cells of one interval of another recorder, whose
// series ids map to tags through keys.
func (r *Recorder) mergeCells(k int, cells []*cell, keys []Selector) {
	for id, c := range cells {
		if c != nil {
			sid := r.series.id(keys[id])
			r.into(k, func(b *bucket) bool { return b.mergeCell(sid, c) })
		}
	}
}
