package metrics

import (
	"sync"

	"github.com/chaosload/chaosload/load"
)

// bucket is one interval: a cell per series that has data in it, indexed by
// series id. One mutex per interval is the lock striping: concurrent
// results spread over the intervals still in flight, and the critical
// section is a few histogram increments.
type bucket struct {
	mu    sync.Mutex
	cells []*cell // by series id; nil where the series has no data
}

// add records res in the cell of series id.
func (b *bucket) add(id int, res *load.Result) {
	b.mu.Lock()
	b.cellLocked(id).add(res)
	b.mu.Unlock()
}

// cellLocked returns the cell of series id, creating it; b.mu must be held.
func (b *bucket) cellLocked(id int) *cell {
	if id >= len(b.cells) {
		grown := make([]*cell, id+1, max(id+1, 2*len(b.cells)))
		copy(grown, b.cells)
		b.cells = grown
	}
	c := b.cells[id]
	if c == nil {
		c = &cell{}
		b.cells[id] = c
	}
	return c
}

// mergeInto adds the selected series' cells to agg.
func (b *bucket) mergeInto(agg *Aggregate, sel []series) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range sel {
		if s.id < len(b.cells) && b.cells[s.id] != nil {
			b.cells[s.id].mergeInto(agg, s.key.Class)
		}
	}
}

// snapshot returns an independent copy of every cell, by series id.
func (b *bucket) snapshot() []*cell {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]*cell, len(b.cells))
	for id, c := range b.cells {
		if c != nil {
			out[id] = c.clone()
		}
	}
	return out
}

// mergeCell adds c (owned by the caller) to the cell of series id.
func (b *bucket) mergeCell(id int, c *cell) {
	b.mu.Lock()
	b.cellLocked(id).merge(c)
	b.mu.Unlock()
}
