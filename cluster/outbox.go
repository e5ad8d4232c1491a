package cluster

import (
	"sync"
	"time"

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
	interval        time.Duration

	mu   sync.RWMutex // Record holds it for reading, Cut for writing
	cur  *metrics.Recorder
	seq  int64
	ackM sync.Mutex
	acks map[int]map[string][]string // of the current cut: interval → step → ids
}

// NewOutbox returns the outbox of worker/attempt, its recorders made with
// cfg.
func NewOutbox(worker, attempt int, cfg metrics.Config) *Outbox {
	rec := metrics.NewRecorder(cfg)
	return &Outbox{worker: worker, attempt: attempt, cfg: cfg, interval: rec.Interval(), cur: rec}
}

// Record implements load.Sink.
func (o *Outbox) Record(res *load.Result) {
	o.mu.RLock()
	o.cur.Record(res)
	if res.Ack != "" {
		o.ack(res, res.Intended)
	}
	o.mu.RUnlock()
}

// RecordAt records res in the interval of at instead of its intended start
// (metrics.Edges files a fault's casualties so), in the current cut.
func (o *Outbox) RecordAt(res *load.Result, at time.Duration) {
	o.mu.RLock()
	o.cur.RecordAt(res, at)
	if res.Ack != "" {
		o.ack(res, at)
	}
	o.mu.RUnlock()
}

// Interval returns the recorders' interval.
func (o *Outbox) Interval() time.Duration { return o.interval }

// ack keeps the id res acknowledged, in the interval of at, where res is.
func (o *Outbox) ack(res *load.Result, at time.Duration) {
	k := int(max(at, 0) / o.interval)
	o.ackM.Lock()
	defer o.ackM.Unlock()
	if o.acks == nil {
		o.acks = map[int]map[string][]string{}
	}
	if o.acks[k] == nil {
		o.acks[k] = map[string][]string{}
	}
	o.acks[k][res.Step] = append(o.acks[k][res.Step], res.Ack)
}

// Cut returns the frames of everything recorded since the last cut, the
// next Seq, and starts a new recorder.
func (o *Outbox) Cut() ([]Frame, error) {
	o.mu.Lock()
	full, seq, acks := o.cur, o.seq, o.acks
	o.cur, o.acks = metrics.NewRecorder(o.cfg), nil
	o.seq++
	o.mu.Unlock()
	frames, err := Frames(full, o.worker, o.attempt, seq)
	for i := range frames {
		frames[i].Acks = acks[frames[i].Interval] // an ack's result has a cell in its interval
	}
	return frames, err
}
