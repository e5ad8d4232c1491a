package cluster

import (
	"fmt"
	"sync"

	"github.com/chaosload/chaosload/metrics"
)

// Collector adds the frames of a run's workers to one recorder, exactly
// (metrics.Recorder.AddCells). It adds each Key once, and of each worker
// only the frames of one attempt (the first to send a frame: a worker that
// has measured anything cannot be retried). It is safe for concurrent use.
type Collector struct {
	rec *metrics.Recorder

	mu      sync.Mutex
	seen    map[Key]bool
	attempt map[int]int         // the attempt whose frames count, by worker
	acks    map[string][]string // acknowledged ids by step
}

// NewRecorderCollector returns a collector into a new recorder of the
// default interval: what a coordinator merges its workers' frames into.
func NewRecorderCollector() *Collector { return NewCollector(metrics.NewRecorder(metrics.Config{})) }

// NewCollector returns a collector into rec.
func NewCollector(rec *metrics.Recorder) *Collector {
	return &Collector{rec: rec, seen: map[Key]bool{}, attempt: map[int]int{}}
}

// Add adds f to the recorder unless its key was added already or it is of
// another attempt than the worker's first; it returns whether it added f,
// and an error for a frame that cannot be merged.
func (c *Collector) Add(f Frame) (bool, error) {
	if f.Length != c.rec.Interval() {
		return false, fmt.Errorf("cluster: frame %+v has intervals of %v, want %v", f.Key(), f.Length, c.rec.Interval())
	}
	if f.Interval < 0 || f.Worker < 0 {
		return false, fmt.Errorf("cluster: frame %+v: negative worker or interval", f.Key())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if a, ok := c.attempt[f.Worker]; (ok && a != f.Attempt) || c.seen[f.Key()] {
		return false, nil
	}
	if err := c.rec.AddCells(f.Interval, f.Cells); err != nil {
		return false, fmt.Errorf("cluster: merge frame %+v: %w", f.Key(), err)
	}
	c.attempt[f.Worker] = f.Attempt
	c.seen[f.Key()] = true
	for step, ids := range f.Acks {
		if c.acks == nil {
			c.acks = map[string][]string{}
		}
		c.acks[step] = append(c.acks[step], ids...)
	}
	return true, nil
}

// Acks returns the ids acknowledged by the operations of every frame
// added, by step.
func (c *Collector) Acks() map[string][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string][]string, len(c.acks))
	for step, ids := range c.acks {
		out[step] = append([]string(nil), ids...)
	}
	return out
}

// Recorder returns the recorder the frames go to.
func (c *Collector) Recorder() *metrics.Recorder { return c.rec }

// Workers returns the workers whose frames were added, each with the
// attempt that counts.
func (c *Collector) Workers() map[int]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[int]int, len(c.attempt))
	for w, a := range c.attempt {
		out[w] = a
	}
	return out
}
