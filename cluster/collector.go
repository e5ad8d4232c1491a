package cluster

import (
	"fmt"
	"sync"
	"time"

	"github.com/chaosload/chaosload/metrics"
)

// Collector gathers the frames of a run's workers and merges them into one
// recorder. It keeps, per key, the frame of the highest Seq, and per worker
// only the frames of one attempt (the first one to send a frame: a worker
// cannot be retried once it has measured anything). It is safe for
// concurrent use.
type Collector struct {
	length time.Duration

	mu      sync.Mutex
	frames  map[Key]Frame
	attempt map[int]int // the attempt whose frames count, by worker
}

// NewCollector returns a collector of frames of interval length; zero
// means metrics.MaxInterval.
func NewCollector(length time.Duration) *Collector {
	if length <= 0 {
		length = metrics.MaxInterval
	}
	return &Collector{length: length, frames: map[Key]Frame{}, attempt: map[int]int{}}
}

// Add keeps f unless a frame of its key with a higher Seq is already there;
// it returns false for a frame ignored as stale (or of a superseded
// attempt) and an error for one that cannot be merged.
func (c *Collector) Add(f Frame) (bool, error) {
	if f.Length != c.length {
		return false, fmt.Errorf("cluster: frame %+v has intervals of %v, want %v", f.Key(), f.Length, c.length)
	}
	if f.Interval < 0 || f.Worker < 0 {
		return false, fmt.Errorf("cluster: frame %+v: negative worker or interval", f.Key())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if a, ok := c.attempt[f.Worker]; ok && a != f.Attempt {
		return false, nil
	}
	c.attempt[f.Worker] = f.Attempt
	if old, ok := c.frames[f.Key()]; ok && old.Seq >= f.Seq {
		return false, nil
	}
	c.frames[f.Key()] = f
	return true, nil
}

// Recorder returns a new recorder holding every frame kept: the exact merge
// of the workers' recorders as their latest frames show them.
func (c *Collector) Recorder() (*metrics.Recorder, error) {
	c.mu.Lock()
	frames := make([]Frame, 0, len(c.frames))
	for _, f := range c.frames {
		frames = append(frames, f)
	}
	c.mu.Unlock()
	rec := metrics.NewRecorder(metrics.Config{Interval: c.length})
	for _, f := range frames {
		if err := rec.AddCells(f.Interval, f.Cells); err != nil {
			return nil, fmt.Errorf("cluster: merge frame %+v: %w", f.Key(), err)
		}
	}
	return rec, nil
}

// Workers returns the workers that sent frames, each with its attempt.
func (c *Collector) Workers() map[int]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[int]int, len(c.attempt))
	for w, a := range c.attempt {
		out[w] = a
	}
	return out
}
