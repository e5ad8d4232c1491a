package metrics

import "time"

// Retention bounds what a Recorder keeps of a long run (a game day of
// hours): the last Recent of the run at full resolution, everything older
// downsampled into the past, whose intervals are whole multiples of the
// recorder's. Downsampling merges intervals exactly (counts add, histograms
// merge bucket by bucket), so a window over the past answers as the full
// record would for that window widened to whole past intervals: nothing is
// lost but resolution.
//
//	interval:   0 ───────────────────────────── last
//	past:       [ 40s ][ 40s ][ 40s ] … │ recent: 250 ms each, ≥ Recent
//	            ≤ MaxPast intervals      │
//
// The zero value keeps every interval (what a `chaosload run` does).
type Retention struct {
	// Recent is how much of the run, back from its last interval, stays at
	// full resolution. Zero: everything does, and Compact does nothing.
	Recent time.Duration
	// Past is the length of a past interval to begin with (default 10 s);
	// it doubles whenever the past would hold more than MaxPast of them.
	Past time.Duration
	// MaxPast bounds the past's intervals (default 64). Each costs, per
	// series, the five histograms of a busy cell, which fill up to some
	// 10 KB each as the intervals grow: 64 keep the past of 20 busy series
	// within some 50 MB (72 MB with all five filled, measured by
	// gameday's TestLongSessionMemory).
	MaxPast int
}

// The defaults of Retention.
const (
	DefaultPast    = 10 * time.Second
	DefaultMaxPast = 64
)

// past is the downsampled past: intervals [0, upto), buckets[g] holding
// those of [g·step, (g+1)·step) (the last one may reach past upto: the
// intervals beyond join it when they are moved). It is immutable once
// published; a longer or coarser one replaces it.
type past struct {
	step    int
	upto    int
	buckets []*bucket
}

// end is the first interval the past does not hold.
func (p *past) end() int {
	if p == nil {
		return 0
	}
	return p.upto
}

// Compact moves what Retention says is no longer recent into the past (a
// no-op when Recent is zero). The owner of a long run calls it now and then
// (a game day's watcher, once a second); it takes as long as merging the
// intervals it moves, and windows wait for it, recording does not. A
// result recorded meanwhile into an interval being moved lands in the past.
func (r *Recorder) Compact() {
	if r.keep.Recent <= 0 {
		return
	}
	r.compacting.Lock()
	defer r.compacting.Unlock()
	old := r.past.Load()
	end := int(r.last.Load()) + 1 - int(r.keep.Recent/r.interval)
	if end <= old.end() {
		return
	}
	step := max(int(r.keep.Past/r.interval), 1)
	if old != nil {
		step = old.step
	}
	for groups(end, step) > r.keep.MaxPast {
		step *= 2
	}
	next := &past{step: step, upto: end, buckets: make([]*bucket, groups(end, step))}
	if old != nil && old.step == step {
		copy(next.buckets, old.buckets) // the last may be partial: it is filled up below
	}
	for g := range next.buckets {
		if next.buckets[g] == nil {
			next.buckets[g] = &bucket{}
		}
	}
	r.past.Store(next) // first: a result that meets a sealed bucket finds its new home
	if old != nil && old.step != step {
		for g, b := range old.buckets {
			b.sealInto(next.buckets[g*old.step/step])
		}
	}
	for k := old.end(); k < end; k++ {
		if b := r.lookup(k); b != nil {
			b.sealInto(next.buckets[k/step])
		}
	}
	r.release(old.end(), end)
}

// groups is how many past intervals of step hold intervals [0, end).
func groups(end, step int) int { return (end + step - 1) / step }

// Step is the resolution of the whole run: the interval, or the past's
// once Compact moved intervals there.
func (r *Recorder) Step() time.Duration {
	if p := r.past.Load(); p != nil {
		return time.Duration(p.step) * r.interval
	}
	return r.interval
}

// Retained counts the intervals the recorder holds: those at full
// resolution that hold data, and the past's.
func (r *Recorder) Retained() int {
	r.compacting.RLock()
	defer r.compacting.RUnlock()
	p := r.past.Load()
	n := 0
	if p != nil {
		n = len(p.buckets)
	}
	for k := p.end(); k <= int(r.last.Load()); k++ {
		if r.lookup(k) != nil {
			n++
		}
	}
	return n
}

// release forgets intervals [from, end), now in the past: the chunks they
// fill go, the slots of a chunk that reaches beyond end are emptied.
func (r *Recorder) release(from, end int) {
	r.grow.Lock()
	defer r.grow.Unlock()
	cs := r.chunks.Load()
	if cs == nil {
		return
	}
	var next []*chunk // copied on the first chunk dropped
	for i := from / chunkLen; i < min(len(*cs), groups(end, chunkLen)); i++ {
		c := (*cs)[i]
		switch {
		case c == nil:
		case (i+1)*chunkLen <= end:
			if next == nil {
				next = append([]*chunk(nil), *cs...)
			}
			next[i] = nil
		default:
			for k := max(i*chunkLen, from); k < end; k++ {
				c[k%chunkLen].Store(nil)
			}
		}
	}
	if next != nil {
		r.chunks.Store(&next)
	}
}

// into adds to the bucket of interval k through add, which reports false
// when the bucket was sealed meanwhile: Compact moved the interval into the
// past, where add is retried.
func (r *Recorder) into(k int, add func(*bucket) bool) {
	for {
		if p := r.past.Load(); p != nil && k < p.end() {
			if add(p.buckets[k/p.step]) {
				return
			}
			continue
		}
		if add(r.bucket(k)) {
			r.markLast(k)
			return
		}
	}
}

// pastGroups returns the past's buckets that overlap intervals [lo, hi)
// and the time they cover, and the first interval after the past.
func (r *Recorder) pastGroups(lo, hi int) (bs []*bucket, span time.Duration, end int) {
	p := r.past.Load()
	if p == nil || hi <= lo {
		return nil, 0, p.end()
	}
	for g := lo / p.step; g*p.step < min(hi, p.upto); g++ {
		bs = append(bs, p.buckets[g])
		span += time.Duration(min((g+1)*p.step, p.upto)-g*p.step) * r.interval
	}
	return bs, span, p.upto
}
