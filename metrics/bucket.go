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
	mu     sync.Mutex
	cells  []*cell // by series id; nil where the series has no data
	sealed bool    // moved into the past (retain.go): adds go there
}

// add records res in the cell of series id; false when the bucket is
// sealed.
func (b *bucket) add(id int, res *load.Result) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sealed {
		return false
	}
	b.cellLocked(id).add(res)
	return true
}

// seal refuses every later add.
func (b *bucket) seal() {
	b.mu.Lock()
	b.sealed = true
	b.mu.Unlock()
}

// sealInto merges b into dst and seals b, whose cells it lets go.
func (b *bucket) sealInto(dst *bucket) {
	b.mu.Lock()
	cells := b.cells
	b.cells, b.sealed = nil, true
	b.mu.Unlock()
	dst.mu.Lock()
	defer dst.mu.Unlock()
	for id, c := range cells {
		if c != nil {
			dst.cellLocked(id).merge(c)
		}
	}
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

// mergeInto adds the selected series' cells to agg, their timings as v
// maps them.
func (b *bucket) mergeInto(agg *Aggregate, sel []series, v view) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range sel {
		if s.id < len(b.cells) && b.cells[s.id] != nil {
			b.cells[s.id].mergeInto(agg, s.key.Class, v)
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

// mergeCell adds c (owned by the caller) to the cell of series id; false
// when the bucket is sealed.
func (b *bucket) mergeCell(id int, c *cell) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sealed {
		return false
	}
	b.cellLocked(id).merge(c)
	return true
}
