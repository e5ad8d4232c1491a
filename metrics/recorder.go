package metrics

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/chaosload/chaosload/load"
)

// MaxInterval is the coarsest interval a Recorder keeps, and its default:
// recovery time is measured to this resolution.
const MaxInterval = 250 * time.Millisecond

// Config tunes a Recorder. The zero value is the default.
type Config struct {
	// Interval is the length of one interval: the resolution of every
	// window and of recovery time. Zero, or anything above MaxInterval,
	// means MaxInterval.
	Interval time.Duration
	// Keep bounds what is kept of a long run; the zero value keeps every
	// interval.
	Keep Retention
}

// Recorder keeps the results of a run per interval and per tag set. It is a
// load.Sink: Record may be called from any number of goroutines at once,
// concurrently with Window, Intervals, Merge and Compact.
//
// Storage is a sparse two-level array of intervals, indexed by the intended
// start of a result divided by the interval:
//
//	chunks ──▶ [*chunk, nil, *chunk, ...]     grown copy-on-write under grow
//	chunk  ──▶ [256]atomic *bucket            filled lazily with CAS
//	bucket ──▶ cells by series id             one mutex per interval
//
// so the hot path takes no lock but the one of its own interval.
type Recorder struct {
	interval time.Duration
	series   seriesTable
	chunks   atomic.Pointer[[]*chunk]
	grow     sync.Mutex   // serialises growth of chunks
	last     atomic.Int64 // highest interval index with data; -1 when none

	// The downsampled past (retain.go): readers hold compacting for
	// reading, Compact for writing.
	keep       Retention
	past       atomic.Pointer[past]
	compacting sync.RWMutex
}

const chunkLen = 256

// chunk is chunkLen consecutive intervals.
type chunk [chunkLen]atomic.Pointer[bucket]

var _ load.Sink = (*Recorder)(nil)

// NewRecorder returns an empty recorder.
func NewRecorder(cfg Config) *Recorder {
	if cfg.Interval <= 0 || cfg.Interval > MaxInterval {
		cfg.Interval = MaxInterval
	}
	if cfg.Keep.Past <= 0 {
		cfg.Keep.Past = DefaultPast
	}
	if cfg.Keep.MaxPast <= 0 {
		cfg.Keep.MaxPast = DefaultMaxPast
	}
	r := &Recorder{interval: cfg.Interval, keep: cfg.Keep}
	r.last.Store(-1)
	return r
}

// Record adds one result, in the interval of its intended start and the
// series of its tags. It does not retain res.
func (r *Recorder) Record(res *load.Result) {
	id := r.series.id(keyOf(res))
	r.into(r.index(res.Intended), func(b *bucket) bool { return b.add(id, res) })
}

// RecordAt adds one result in the interval of offset at instead of its
// intended start (the attribution of work a fault met in flight; see
// Edges). Its times, and so its latency, are unchanged.
func (r *Recorder) RecordAt(res *load.Result, at time.Duration) {
	id := r.series.id(keyOf(res))
	r.into(r.index(at), func(b *bucket) bool { return b.add(id, res) })
}

// Interval returns the length of one interval.
func (r *Recorder) Interval() time.Duration { return r.interval }

// End returns the end of the last interval with data, 0 when there is none.
func (r *Recorder) End() time.Duration {
	return time.Duration(r.last.Load()+1) * r.interval
}

// index returns the interval holding offset d (negative offsets: the first).
func (r *Recorder) index(d time.Duration) int {
	if d < 0 {
		return 0
	}
	return int(d / r.interval)
}

func (r *Recorder) markLast(k int) {
	for {
		cur := r.last.Load()
		if int64(k) <= cur || r.last.CompareAndSwap(cur, int64(k)) {
			return
		}
	}
}

// lookup returns interval k, nil when it holds nothing.
func (r *Recorder) lookup(k int) *bucket {
	cs := r.chunks.Load()
	if cs == nil || k/chunkLen >= len(*cs) {
		return nil
	}
	c := (*cs)[k/chunkLen]
	if c == nil {
		return nil
	}
	return c[k%chunkLen].Load()
}

// bucket returns interval k, creating it. A bucket created for an
// interval Compact has just moved into the past comes back sealed.
func (r *Recorder) bucket(k int) *bucket {
	if b := r.lookup(k); b != nil {
		return b
	}
	slot := &r.chunkFor(k)[k%chunkLen]
	fresh := &bucket{}
	if !slot.CompareAndSwap(nil, fresh) {
		return slot.Load() // another caller created it first
	}
	if k < r.past.Load().end() { // the slot was emptied by Compact: the past was published before
		fresh.seal()
		slot.CompareAndSwap(fresh, nil)
	}
	return fresh
}

// chunkFor returns the chunk holding interval k, creating it.
func (r *Recorder) chunkFor(k int) *chunk {
	i := k / chunkLen
	if cs := r.chunks.Load(); cs != nil && i < len(*cs) && (*cs)[i] != nil {
		return (*cs)[i]
	}
	r.grow.Lock()
	defer r.grow.Unlock()
	var cur []*chunk
	if cs := r.chunks.Load(); cs != nil {
		cur = *cs
	}
	if i < len(cur) && cur[i] != nil {
		return cur[i]
	}
	next := make([]*chunk, max(len(cur), i+1))
	copy(next, cur)
	next[i] = &chunk{}
	r.chunks.Store(&next)
	return next[i]
}
