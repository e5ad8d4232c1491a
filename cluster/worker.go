package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/metrics"
)

// WorkerConfig is what a worker needs. Zero values are the defaults.
type WorkerConfig struct {
	// Coordinator is the coordinator's base URL (required).
	Coordinator string
	// Index is the worker's index, 0 … N−1.
	Index int
	// Hash is the experiment's hash (see Hash).
	Hash string
	// Token is the coordinator's token, when it has one.
	Token string
	// Load makes the worker's load (required): the experiment's scenarios
	// resolved with vars, run with seed as segment seg, results to sink,
	// on clock.
	Load func(seed int64, vars map[string]string, seg load.Segment, sink load.Sink, clock load.Clock) (*load.Load, error)
	// Instants are the planned times of the experiment's fault timeline
	// (faults.Instants, as the coordinator's timeline has them): a result
	// that ended after one waits until the coordinator has told when that
	// instant's faults began to act, and the operations they met in flight
	// wait for their first apply, to be filed under the fault as one
	// process files them (metrics.Edges).
	Instants []time.Duration
	// Interval is the recorder's interval (default metrics.MaxInterval);
	// the coordinator's must be the same.
	Interval time.Duration
	// FrameEvery is how often frames are cut and posted (default 250ms);
	// a post is also the worker's heartbeat.
	FrameEvery time.Duration
	// FramesDir, when set, also receives every frame, as JSON lines in
	// worker-I-attempt-A.jsonl, for `chaosload merge`.
	FramesDir string
	// RegisterTimeout is how long the worker tries to reach the
	// coordinator before giving up (default 2m).
	RegisterTimeout time.Duration
	// Client posts to the coordinator (default: a client with a 10s
	// timeout per post; registration waits without one).
	Client *http.Client
	// Logger receives the worker's messages.
	Logger zerolog.Logger
	// OnStart, when set, is called once the coordinator has answered:
	// with the attempt given and the time left until the load starts.
	OnStart func(attempt int, delay time.Duration)
}

// RefusedError is the coordinator refusing the worker: another experiment,
// an index out of range, or a registration after the start.
type RefusedError struct{ Msg string }

func (e *RefusedError) Error() string { return "coordinator refused the worker: " + e.Msg }

// ErrCoordinatorLost is returned when the coordinator cannot be reached
// after the start: the worker's results from then on are lost.
var ErrCoordinatorLost = errors.New("coordinator lost after the start")

// RunWorker registers with the coordinator, runs the worker's segment of
// the load from the start it is given, and streams its frames until the
// load has ended and its last frames are delivered. It returns nil then, a
// *RefusedError when refused, ErrCoordinatorLost (wrapped) when the
// coordinator could not be reached after the start, and ctx's cause when
// ctx ended first.
func RunWorker(ctx context.Context, cfg WorkerConfig) error {
	cfg = cfg.withDefaults()
	rep, err := registerWorker(ctx, cfg)
	if err != nil {
		return err
	}
	cfg.Logger.Info().Int("worker", cfg.Index).Int("attempt", rep.Attempt).Dur("delay", rep.Delay).Msg("registered: starting")
	if cfg.OnStart != nil {
		cfg.OnStart(rep.Attempt, rep.Delay)
	}
	clock := load.Clock{Epoch: time.Now().Add(rep.Delay)}
	box := NewOutbox(cfg.Index, rep.Attempt, metrics.Config{Interval: cfg.Interval})
	edges := metrics.NewEdges(box, cfg.Instants)
	ld, err := cfg.Load(rep.Seed, rep.Vars, load.Segment{Index: cfg.Index, Count: rep.Workers}, edges, clock)
	if err != nil {
		return fmt.Errorf("worker %d: make the load: %w", cfg.Index, err)
	}
	s := &streamer{cfg: cfg, attempt: rep.Attempt, box: box, edges: edges}
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	streamCtx, stopStream := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { s.stream(streamCtx, stopLoad) })
	loadErr := ld.Run(loadCtx)
	stopStream()
	wg.Wait()
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	edges.Flush() // what still waits on an edge never told: by its start, as one process does
	health := ld.Health()
	if err := s.finish(ctx, &health); err != nil {
		return err
	}
	if loadErr != nil && !s.stopped() {
		return fmt.Errorf("worker %d: load: %w", cfg.Index, loadErr)
	}
	return nil
}

func (cfg WorkerConfig) withDefaults() WorkerConfig {
	if cfg.Interval <= 0 {
		cfg.Interval = metrics.MaxInterval
	}
	if cfg.FrameEvery <= 0 {
		cfg.FrameEvery = 250 * time.Millisecond
	}
	if cfg.RegisterTimeout <= 0 {
		cfg.RegisterTimeout = 2 * time.Minute
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	return cfg
}

// registerWorker registers until the coordinator answers (it holds the
// request until every worker is there), retrying while it cannot be
// reached, for RegisterTimeout.
func registerWorker(ctx context.Context, cfg WorkerConfig) (startReply, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.RegisterTimeout)
	defer cancel()
	client := *cfg.Client
	client.Timeout = 0 // the reply comes when every worker is there
	retry := time.NewTimer(0)
	defer retry.Stop()
	for {
		var rep startReply
		err := post(ctx, &client, cfg.Token, cfg.Coordinator+pathRegister, registration{Worker: cfg.Index, Hash: cfg.Hash}, &rep)
		var refused *RefusedError
		if err == nil || errors.As(err, &refused) {
			return rep, err
		}
		cfg.Logger.Debug().Err(err).Msg("coordinator not reached yet")
		retry.Reset(200 * time.Millisecond)
		select {
		case <-ctx.Done():
			return startReply{}, fmt.Errorf("worker %d: register with %s: %w (last: %v)", cfg.Index, cfg.Coordinator, context.Cause(ctx), err)
		case <-retry.C:
		}
	}
}

// post sends v as JSON and decodes the reply into out; a 4xx reply is a
// *RefusedError.
func post(ctx context.Context, client *http.Client, token, url string, v, out any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 && resp.StatusCode < 500 {
		var e apiError
		_ = json.NewDecoder(resp.Body).Decode(&e)
		return &RefusedError{Msg: e.Error}
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("post %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// streamer cuts the worker's outbox and posts the frames.
type streamer struct {
	cfg     WorkerConfig
	attempt int
	box     *Outbox
	edges   *metrics.Edges // in front of box: told the edges of every reply
	pending []Frame        // cut but not yet delivered
	stop    bool           // the coordinator asked the load to stop
	mu      sync.Mutex
}

// stream cuts and posts every FrameEvery until ctx ends; it stops the
// load when the coordinator says so.
func (s *streamer) stream(ctx context.Context, stopLoad context.CancelFunc) {
	tick := time.NewTicker(s.cfg.FrameEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := s.cutAndPost(ctx, nil); err != nil {
			s.cfg.Logger.Warn().Err(err).Msg("frames not delivered yet")
		}
		if s.stopped() {
			stopLoad()
		}
	}
}

// finish delivers the last frames, marked done, retrying for 10s.
func (s *streamer) finish(ctx context.Context, health *load.Health) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	retry := time.NewTimer(0)
	defer retry.Stop()
	for {
		err := s.cutAndPost(ctx, health)
		if err == nil {
			return nil
		}
		var refused *RefusedError
		if errors.As(err, &refused) {
			return err
		}
		retry.Reset(200 * time.Millisecond)
		select {
		case <-ctx.Done():
			return fmt.Errorf("worker %d: deliver the last frames: %w: %v", s.cfg.Index, ErrCoordinatorLost, err)
		case <-retry.C:
		}
	}
}

// cutAndPost cuts the outbox, writes the cut to FramesDir, and posts
// every frame not yet delivered; with the worker's health, as its last.
func (s *streamer) cutAndPost(ctx context.Context, health *load.Health) error {
	frames, err := s.box.Cut()
	if err != nil {
		return err
	}
	if err := s.file(frames); err != nil {
		return err
	}
	s.pending = append(s.pending, frames...)
	var rep framesReply
	req := framesRequest{Worker: s.cfg.Index, Attempt: s.attempt, Frames: s.pending, Done: health != nil, Health: health}
	if err := post(ctx, s.cfg.Client, s.cfg.Token, s.cfg.Coordinator+pathFrames, req, &rep); err != nil {
		return err
	}
	s.pending = nil
	s.edges.Tell(rep.Edges) // what this settles goes into a later cut
	s.mu.Lock()
	s.stop = s.stop || rep.Stop
	s.mu.Unlock()
	return nil
}

func (s *streamer) stopped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stop
}

// file appends frames to the worker's file in FramesDir, if set.
func (s *streamer) file(frames []Frame) error {
	if s.cfg.FramesDir == "" || len(frames) == 0 {
		return nil
	}
	name := filepath.Join(s.cfg.FramesDir, fmt.Sprintf("worker-%d-attempt-%d.jsonl", s.cfg.Index, s.attempt))
	f, err := os.OpenFile(name, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("frames file: %w", err)
	}
	if err := WriteFrames(f, frames); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
