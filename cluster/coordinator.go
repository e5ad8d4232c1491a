package cluster

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/metrics"
)

// CoordinatorConfig tunes a Coordinator. Zero values are the defaults.
type CoordinatorConfig struct {
	// Workers is how many workers the run has (required, ≥ 1).
	Workers int
	// Hash identifies the experiment (see Hash): a worker with another is
	// refused.
	Hash string
	// StartDelay is how long after the last registration the load starts
	// (default 1s): time for every reply to reach its worker.
	StartDelay time.Duration
	// DeadAfter is how long a started worker may stay silent before it is
	// taken for dead (default 3s; workers post every FrameEvery).
	DeadAfter time.Duration
	// Logger receives registrations and losses.
	Logger zerolog.Logger
	// Token, when set, must be presented by every worker (Authorization:
	// Bearer TOKEN); a coordinator reachable beyond loopback needs one.
	Token string
	// OnEvent, when set, is told of each registration, departure before
	// the start, the start and a loss, in a sentence. It must not block.
	OnEvent func(string)
}

// Coordinator is the coordinator's side of a distributed run: it gathers
// the workers' registrations, starts them together, feeds their frames to
// a Collector and notices a worker that went silent. Serve its Handler;
// call Start, then Wait.
type Coordinator struct {
	cfg CoordinatorConfig
	col *Collector

	mu       sync.Mutex
	attempts map[int]int // the latest attempt given, by worker
	pending  map[int]int // registered and waiting, by worker: attempt
	started  map[int]int // the attempt that started, by worker
	lastSeen map[int]time.Time
	done     map[int]bool
	health   map[int]load.Health // each worker's own, from its last post
	reply    startReply
	epoch    time.Time
	edges    func() []metrics.Edge // the fault timeline's, told in every frames reply
	stop     bool
	changed  chan struct{} // a registration or a worker's end: room for one
	begun    chan struct{} // closed at the start
}

// NewCoordinator returns a coordinator whose frames go to col.
func NewCoordinator(cfg CoordinatorConfig, col *Collector) *Coordinator {
	if cfg.StartDelay <= 0 {
		cfg.StartDelay = time.Second
	}
	if cfg.DeadAfter <= 0 {
		cfg.DeadAfter = 3 * time.Second
	}
	return &Coordinator{cfg: cfg, col: col, attempts: map[int]int{}, pending: map[int]int{},
		started: map[int]int{}, lastSeen: map[int]time.Time{}, done: map[int]bool{}, health: map[int]load.Health{},
		changed: make(chan struct{}, 1), begun: make(chan struct{})}
}

// Handler returns the coordinator's HTTP API.
func (c *Coordinator) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+pathRegister, c.register)
	mux.HandleFunc("POST "+pathFrames, c.frames)
	if c.cfg.Token == "" {
		return mux
	}
	want := []byte("Bearer " + c.cfg.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			refuse(w, http.StatusUnauthorized, "a worker of this run presents the coordinator's token (--token, CHAOSLOAD_TOKEN)")
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// Start waits until every worker has registered, then starts them
// together: each is told the seed, vars and the time left until the epoch
// it returns (now + StartDelay). A worker that disconnects while waiting
// leaves its place free for a retry.
func (c *Coordinator) Start(ctx context.Context, seed int64, vars map[string]string) (time.Time, error) {
	for {
		c.mu.Lock()
		if len(c.pending) == c.cfg.Workers {
			c.epoch = time.Now().Add(c.cfg.StartDelay)
			c.reply = startReply{Workers: c.cfg.Workers, Seed: seed, Vars: vars}
			for w, a := range c.pending {
				c.started[w], c.lastSeen[w] = a, time.Now()
			}
			close(c.begun)
			c.mu.Unlock()
			c.event("all %d workers registered: the load starts in %v", c.cfg.Workers, c.cfg.StartDelay)
			return c.epoch, nil
		}
		n := len(c.pending)
		c.mu.Unlock()
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("cluster: waiting for workers (%d of %d registered): %w", n, c.cfg.Workers, context.Cause(ctx))
		case <-c.changed:
		}
	}
}

// register holds a worker's registration until the start.
func (c *Coordinator) register(w http.ResponseWriter, r *http.Request) {
	var reg registration
	if err := json.NewDecoder(r.Body).Decode(&reg); err != nil {
		refuse(w, http.StatusBadRequest, "registration: %v", err)
		return
	}
	attempt, status, err := c.join(reg)
	if err != nil {
		refuse(w, status, "%v", err)
		return
	}
	select {
	case <-c.begun:
	case <-r.Context().Done():
		c.leave(reg.Worker, attempt)
		return
	}
	c.mu.Lock()
	if c.started[reg.Worker] != attempt { // superseded by a later registration
		c.mu.Unlock()
		refuse(w, http.StatusConflict, "worker %d attempt %d was replaced by attempt %d", reg.Worker, attempt, c.started[reg.Worker])
		return
	}
	rep := c.reply
	rep.Attempt, rep.Delay = attempt, time.Until(c.epoch)
	c.mu.Unlock()
	writeJSON(w, rep)
}

// join records a registration; it returns the attempt given, or why not.
func (c *Coordinator) join(reg registration) (int, int, error) {
	if reg.Hash != c.cfg.Hash {
		return 0, http.StatusConflict, fmt.Errorf("worker %d runs another experiment (hash %.12s, the coordinator's is %.12s): give every worker the same file and --set values", reg.Worker, reg.Hash, c.cfg.Hash)
	}
	if reg.Worker < 0 || reg.Worker >= c.cfg.Workers {
		return 0, http.StatusBadRequest, fmt.Errorf("worker index %d: the run has workers 0 to %d", reg.Worker, c.cfg.Workers-1)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.started[reg.Worker]; ok {
		return 0, http.StatusConflict, fmt.Errorf("worker %d registered after the start: its part of the schedule is already lost", reg.Worker)
	}
	c.attempts[reg.Worker]++
	a := c.attempts[reg.Worker]
	c.pending[reg.Worker] = a
	c.cfg.Logger.Info().Int("worker", reg.Worker).Int("attempt", a).Msg("worker registered")
	c.event("worker %d registered (attempt %d)", reg.Worker, a)
	c.signal()
	return a, 0, nil
}

// leave frees a worker's place when its registration went away before
// the start.
func (c *Coordinator) leave(worker, attempt int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending[worker] == attempt && c.started[worker] == 0 {
		delete(c.pending, worker)
		c.cfg.Logger.Warn().Int("worker", worker).Int("attempt", attempt).Msg("worker left before the start: its index may be retried")
		c.event("worker %d (attempt %d) left before the start: its index may register again", worker, attempt)
		c.signal()
	}
}

// event tells OnEvent.
func (c *Coordinator) event(format string, a ...any) {
	if c.cfg.OnEvent != nil {
		c.cfg.OnEvent(fmt.Sprintf(format, a...))
	}
}

// signal wakes Start or Wait.
func (c *Coordinator) signal() {
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

// frames takes a worker's frames (and heartbeat).
func (c *Coordinator) frames(w http.ResponseWriter, r *http.Request) {
	var req framesRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		refuse(w, http.StatusBadRequest, "frames: %v", err)
		return
	}
	c.mu.Lock()
	if a, ok := c.started[req.Worker]; !ok || a != req.Attempt {
		c.mu.Unlock()
		refuse(w, http.StatusConflict, "worker %d attempt %d is not a started worker of this run", req.Worker, req.Attempt)
		return
	}
	c.lastSeen[req.Worker] = time.Now()
	stop, edges := c.stop, c.edges
	c.mu.Unlock()
	for _, f := range req.Frames {
		if f.Worker != req.Worker || f.Attempt != req.Attempt {
			refuse(w, http.StatusBadRequest, "a frame of worker %d attempt %d sent by worker %d attempt %d", f.Worker, f.Attempt, req.Worker, req.Attempt)
			return
		}
		if _, err := c.col.Add(f); err != nil {
			refuse(w, http.StatusBadRequest, "%v", err)
			return
		}
	}
	if req.Done {
		c.mu.Lock()
		c.done[req.Worker] = true
		if req.Health != nil {
			c.health[req.Worker] = *req.Health
		}
		c.mu.Unlock()
		c.signal()
	}
	rep := framesReply{Stop: stop}
	if edges != nil {
		rep.Edges = edges()
	}
	writeJSON(w, rep)
}

// EdgesFrom makes edges what every reply to a worker's frames tells it of
// the fault timeline (metrics.Edges.Edges of the run's): the worker files
// the operations a fault met in flight by them, as this process would
// have filed its own.
func (c *Coordinator) EdgesFrom(edges func() []metrics.Edge) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.edges = edges
}

// Stop tells every worker, at its next post, to stop its load.
func (c *Coordinator) Stop() {
	c.mu.Lock()
	c.stop = true
	c.mu.Unlock()
}

// LostError says a worker died after the start: its part of the schedule
// from At on was never offered, so the run is incomplete.
type LostError struct {
	Worker, Attempt int
	// At is the worker's last sign of life, an offset from the start of
	// the load.
	At time.Duration
}

func (e *LostError) Error() string {
	return fmt.Sprintf("worker %d (attempt %d) lost after the start: silent since %v into the load", e.Worker, e.Attempt, e.At.Round(time.Millisecond))
}

// Wait returns once every worker has sent its last frames (nil), a worker
// has been silent for DeadAfter (a *LostError), or ctx is done.
func (c *Coordinator) Wait(ctx context.Context) error {
	tick := time.NewTicker(c.cfg.DeadAfter / 8)
	defer tick.Stop()
	for {
		if end, err := c.check(); end {
			return err
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-c.changed:
		case <-tick.C:
		}
	}
}

// check reports whether the wait is over, and the lost worker if any.
func (c *Coordinator) check() (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.done) == c.cfg.Workers {
		return true, nil
	}
	for w := range c.cfg.Workers {
		if !c.done[w] && time.Since(c.lastSeen[w]) > c.cfg.DeadAfter {
			lost := &LostError{Worker: w, Attempt: c.started[w], At: max(0, c.lastSeen[w].Sub(c.epoch))}
			c.cfg.Logger.Error().Err(lost).Msg("worker lost")
			c.event("%v", lost)
			return true, lost
		}
	}
	return false, nil
}

// refuse answers an error.
func refuse(w http.ResponseWriter, status int, format string, a ...any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(apiError{Error: fmt.Sprintf(format, a...)})
}

// writeJSON answers v.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// Health returns the generator health of the workers that finished, as
// one: operations and CPU saturation add up and the lag figures and CPU
// peak are the worst worker's (percentiles of several processes cannot be
// merged from their summaries; each operation's own lateness is in its
// frames, and checks are judged again without it, exactly); Saturated when
// any worker was, with its reason.
func (c *Coordinator) Health() load.Health {
	c.mu.Lock()
	defer c.mu.Unlock()
	var h load.Health
	for w := range c.cfg.Workers {
		x, ok := c.health[w]
		if !ok {
			continue
		}
		h.Ops += x.Ops
		h.LagP50, h.LagP99, h.LagMax = max(h.LagP50, x.LagP50), max(h.LagP99, x.LagP99), max(h.LagMax, x.LagMax)
		h.CPUPeak, h.CPUSaturated, h.Cores = max(h.CPUPeak, x.CPUPeak), max(h.CPUSaturated, x.CPUSaturated), max(h.Cores, x.Cores)
		if x.Saturated && !h.Saturated {
			h.Saturated, h.Reason = true, fmt.Sprintf("worker %d: %s", w, x.Reason)
		}
	}
	return h
}

// Acks returns the ids the workers' operations acknowledged, by step.
func (c *Coordinator) Acks() map[string][]string { return c.col.Acks() }

// Recorder returns the recorder the workers' frames go to.
func (c *Coordinator) Recorder() *metrics.Recorder { return c.col.Recorder() }

// Workers returns how many workers the run has.
func (c *Coordinator) Workers() int { return c.cfg.Workers }
