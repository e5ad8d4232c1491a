package cluster

import (
	"sync"

	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/metrics"
)

// Outbox is a worker's load.Sink: it records every result into the current
// recorder, and Cut swaps in an empty one and returns what the old one
// holds as frames. A result goes into exactly one cut, so a worker's frames
// add up to everything it recorded.
type Outbox struct {
	worker, attempt int
	cfg             metrics.Config

	mu  sync.RWMutex // Record holds it for reading, Cut for writing
	cur *metrics.Recorder
	seq int64
}

// NewOutbox returns the outbox of worker/attempt, its recorders made with
// cfg.
func NewOutbox(worker, attempt int, cfg metrics.Config) *Outbox {
	return &Outbox{worker: worker, attempt: attempt, cfg: cfg, cur: metrics.NewRecorder(cfg)}
}

// Record implements load.Sink.
func (o *Outbox) Record(res *load.Result) {
	o.mu.RLock()
	o.cur.Record(res)
	o.mu.RUnlock()
}

// Cut returns the frames of everything recorded since the last cut, the
// next Seq, and starts a new recorder.
func (o *Outbox) Cut() ([]Frame, error) {
	o.mu.Lock()
	full, seq := o.cur, o.seq
	o.cur = metrics.NewRecorder(o.cfg)
	o.seq++
	o.mu.Unlock()
	return Frames(full, o.worker, o.attempt, seq)
}
