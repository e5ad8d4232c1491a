package metrics

import (
	"sync"
	"sync/atomic"
)

// seriesTable interns tag sets into small integer ids, so that an interval
// stores its series in a slice indexed by id instead of a map keyed by five
// strings. A run has few series (steps × targets × classes seen), all known
// early, so lookups vastly outnumber insertions: readers load an immutable
// map through an atomic pointer without locking, and a new series publishes
// a fresh copy (copy-on-write) under mu.
type seriesTable struct {
	ids  atomic.Pointer[map[Selector]int]
	keys atomic.Pointer[[]Selector] // keys[id] is the tag set of id
	mu   sync.Mutex                 // serialises insertions
}

// id returns the id of key, interning it on first sight.
func (t *seriesTable) id(key Selector) int {
	if m := t.ids.Load(); m != nil {
		if id, ok := (*m)[key]; ok {
			return id
		}
	}
	return t.insert(key)
}

func (t *seriesTable) insert(key Selector) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.ids.Load()
	if old != nil {
		if id, ok := (*old)[key]; ok {
			return id // another caller interned it first
		}
	}
	keys := t.all()
	id := len(keys)
	next := make(map[Selector]int, id+1)
	for k, v := range derefMap(old) {
		next[k] = v
	}
	next[key] = id
	grown := append(keys[:id:id], key) // copy: readers hold the old slice
	t.keys.Store(&grown)
	t.ids.Store(&next)
	return id
}

// all returns every interned tag set, indexed by id. The slice must not be
// modified.
func (t *seriesTable) all() []Selector {
	if k := t.keys.Load(); k != nil {
		return *k
	}
	return nil
}

// matching returns the ids and tag sets of the series sel selects.
func (t *seriesTable) matching(sel Selector) []series {
	var out []series
	for id, key := range t.all() {
		if sel.Matches(key) {
			out = append(out, series{id: id, key: key})
		}
	}
	return out
}

// series is one interned tag set.
type series struct {
	id  int
	key Selector
}

func derefMap(m *map[Selector]int) map[Selector]int {
	if m == nil {
		return nil
	}
	return *m
}
