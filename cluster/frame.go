package cluster

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/chaosload/chaosload/metrics"
)

// Frame is what one worker recorded in one interval between two cuts of
// its Outbox: a delta, so the frames of a worker add up to its whole
// recorder. A result is in exactly one cut, and a frame is identified by
// its Key, so a frame sent twice (a retried send, a file merged twice) never
// counts twice.
type Frame struct {
	// Worker is the worker's index, from 0.
	Worker int `json:"worker"`
	// Attempt counts the worker's registrations, from 1: a worker restarted
	// before the start registers again with the next attempt.
	Attempt int `json:"attempt"`
	// Interval is the interval's index k: it starts at k·Length from the
	// start of the load.
	Interval int `json:"interval"`
	// Length is the recorder's interval; every frame of a run has the
	// same.
	Length time.Duration `json:"length"`
	// Seq numbers the worker's cuts, from 0: the frames of one cut share it.
	Seq int64 `json:"seq"`
	// Cells are the interval's series.
	Cells []metrics.CellData `json:"cells,omitempty"`
	// Acks are the ids acknowledged by the interval's operations of this
	// cut, by step (for the coordinator's verify of acknowledged writes).
	Acks map[string][]string `json:"acks,omitempty"`
}

// Key is what identifies a frame: (worker, attempt, interval) and the cut.
type Key struct {
	Worker, Attempt, Interval int
	Seq                       int64
}

// Key returns the frame's key.
func (f Frame) Key() Key { return Key{f.Worker, f.Attempt, f.Interval, f.Seq} }

// Frames returns every interval of rec holding data as frames of
// worker/attempt, all of cut seq.
func Frames(rec *metrics.Recorder, worker, attempt int, seq int64) ([]Frame, error) {
	var out []Frame
	for k := 0; k <= rec.Last(); k++ {
		cells, err := rec.Cells(k)
		if err != nil {
			return nil, fmt.Errorf("cluster: cut interval %d: %w", k, err)
		}
		if cells == nil {
			continue
		}
		out = append(out, Frame{Worker: worker, Attempt: attempt, Interval: k, Length: rec.Interval(),
			Seq: seq, Cells: cells})
	}
	return out, nil
}

// WriteFrames writes frames as JSON lines, one frame a line.
func WriteFrames(w io.Writer, frames []Frame) error {
	enc := json.NewEncoder(w)
	for _, f := range frames {
		if err := enc.Encode(f); err != nil {
			return fmt.Errorf("cluster: write frame %+v: %w", f.Key(), err)
		}
	}
	return nil
}

// ReadFrames reads the frames WriteFrames wrote; name labels errors.
func ReadFrames(r io.Reader, name string) ([]Frame, error) {
	dec := json.NewDecoder(bufio.NewReader(r))
	var out []Frame
	for {
		var f Frame
		err := dec.Decode(&f)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: frame %d: %w", name, len(out)+1, err)
		}
		out = append(out, f)
	}
}
