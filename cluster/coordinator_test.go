package cluster

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/metrics"
)

// quickLoad is 40 arrivals over 400 ms of real time, each taking no time,
// with a VU for every arrival on any split (60: 20 a worker of 3), so none
// is ever dropped however slow the machine.
var quickLoad = load.Scenario{Name: "s", Executor: load.ConstantArrivalRate, Rate: 100,
	Duration: 400 * time.Millisecond, PreAllocatedVUs: 60,
	Steps: []load.Step{{Name: "get", Target: "api", HTTP: &load.HTTPRequest{URL: "${targets.api}"}}}}

// nop succeeds at once.
var nop = driverFunc(func(_ context.Context, vu *load.VU, _ *load.Step, res *load.Result) {
	res.Start = vu.Clock.Now()
	res.End = res.Start
})

// makeLoad is WorkerConfig.Load for quickLoad.
func makeLoad(seed int64, _ map[string]string, seg load.Segment, sink load.Sink, clock load.Clock) (*load.Load, error) {
	return load.New([]load.Scenario{quickLoad}, load.Config{Drivers: map[load.Protocol]load.Driver{load.HTTP: nop},
		Sink: sink, Seed: seed, Clock: clock, Logger: zerolog.Nop(), Segment: seg})
}

// startCoordinator serves a coordinator of n workers on loopback.
func startCoordinator(t *testing.T, n int) (*Coordinator, string) {
	t.Helper()
	c := NewCoordinator(CoordinatorConfig{Workers: n, Hash: "h", StartDelay: 100 * time.Millisecond,
		DeadAfter: 500 * time.Millisecond}, NewCollector(metrics.NewRecorder(metrics.Config{})))
	srv := httptest.NewServer(c.Handler())
	t.Cleanup(srv.Close)
	return c, srv.URL
}

// worker returns the config of worker i.
func worker(url string, i int) WorkerConfig {
	return WorkerConfig{Coordinator: url, Index: i, Hash: "h", Load: makeLoad, FrameEvery: 50 * time.Millisecond,
		RegisterTimeout: 10 * time.Second}
}

// runWorkers runs cfgs, each in its goroutine, and returns their errors
// once all have returned.
func runWorkers(ctx context.Context, cfgs ...WorkerConfig) func() []error {
	errs := make([]error, len(cfgs))
	var wg sync.WaitGroup
	for i, cfg := range cfgs {
		wg.Go(func() { errs[i] = RunWorker(ctx, cfg) })
	}
	return func() []error { wg.Wait(); return errs }
}

// TestWorkersRunTheWholeSchedule: three workers register, start together
// and stream their frames; the coordinator's recorder holds the whole
// schedule's 40 operations, once each, and their health covers all 40.
func TestWorkersRunTheWholeSchedule(t *testing.T) {
	c, url := startCoordinator(t, 3)
	wait := runWorkers(context.Background(), worker(url, 0), worker(url, 1), worker(url, 2))
	if _, err := c.Start(context.Background(), 5, map[string]string{"targets.api": "127.0.0.1:1"}); err != nil {
		t.Fatal(err)
	}
	assertCompleted(t, c, wait)
	if h := c.Health(); h.Ops != 40 {
		t.Fatalf("the workers' health covers %d operations, want 40", h.Ops)
	}
}

// assertCompleted waits for the run and its workers and checks that the
// whole schedule's 40 operations were merged, once each.
func assertCompleted(t *testing.T, c *Coordinator, wait func() []error) {
	t.Helper()
	if err := c.Wait(context.Background()); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	for i, err := range wait() {
		if err != nil {
			t.Errorf("worker %d: %v", i, err)
		}
	}
	if got := c.col.Recorder().Window(0, time.Minute, metrics.Selector{}).Ops; got != 40 {
		t.Fatalf("%d operations merged, want 40", got)
	}
}

// TestOtherExperimentRefused: a worker with another experiment's hash is
// refused at registration, with the reason.
func TestOtherExperimentRefused(t *testing.T) {
	_, url := startCoordinator(t, 1)
	cfg := worker(url, 0)
	cfg.Hash = "other"
	err := RunWorker(context.Background(), cfg)
	var refused *RefusedError
	if !errors.As(err, &refused) || !strings.Contains(err.Error(), "another experiment") {
		t.Fatalf("RunWorker = %v, want a refusal naming another experiment", err)
	}
}

// TestWorkerGoneBeforeStartIsRetried: worker 0 registers and goes away
// before the others are there; its index registers again (attempt 2) and
// the run completes with attempt 2's frames.
func TestWorkerGoneBeforeStartIsRetried(t *testing.T) {
	c, url := startCoordinator(t, 2)
	gone, kill := context.WithCancel(context.Background())
	first := runWorkers(gone, worker(url, 0))
	waitFor(t, func() bool { return c.pendingCount() == 1 })
	kill()
	if err := first()[0]; !errors.Is(err, context.Canceled) {
		t.Fatalf("killed worker returned %v, want context.Canceled", err)
	}
	waitFor(t, func() bool { return c.pendingCount() == 0 })
	wait := runWorkers(context.Background(), worker(url, 0), worker(url, 1))
	if _, err := c.Start(context.Background(), 5, nil); err != nil {
		t.Fatal(err)
	}
	assertCompleted(t, c, wait)
	if a := c.startedAttempt(0); a != 2 {
		t.Fatalf("worker 0 started with attempt %d, want 2", a)
	}
}

// TestWorkerSilentAfterStartIsLost: a worker that stops posting after the
// start is reported lost: which worker, and since when.
func TestWorkerSilentAfterStartIsLost(t *testing.T) {
	c, url := startCoordinator(t, 2)
	dying, kill := context.WithCancel(context.Background())
	d := worker(url, 1)
	d.Load = func(seed int64, vars map[string]string, seg load.Segment, sink load.Sink, clock load.Clock) (*load.Load, error) {
		kill() // dies as its load is made: after the start, before a frame
		return makeLoad(seed, vars, seg, sink, clock)
	}
	waitDying := runWorkers(dying, d)
	wait := runWorkers(context.Background(), worker(url, 0))
	if _, err := c.Start(context.Background(), 5, nil); err != nil {
		t.Fatal(err)
	}
	err := c.Wait(context.Background())
	var lost *LostError
	if !errors.As(err, &lost) || lost.Worker != 1 || lost.Attempt != 1 {
		t.Fatalf("Wait = %v, want worker 1 attempt 1 lost", err)
	}
	waitDying()
	if err := wait()[0]; err != nil {
		t.Fatalf("worker 0: %v", err)
	}
}

// waitFor polls the coordinator's state until ok, failing after 10s.
func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (c *Coordinator) pendingCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending)
}

func (c *Coordinator) startedAttempt(w int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.started[w]
}

// TestTokenRequired: a coordinator with a token refuses a worker without
// it, saying what is missing.
func TestTokenRequired(t *testing.T) {
	c := NewCoordinator(CoordinatorConfig{Workers: 1, Hash: "h", Token: "s3cret"}, NewCollector(metrics.NewRecorder(metrics.Config{})))
	srv := httptest.NewServer(c.Handler())
	t.Cleanup(srv.Close)
	err := RunWorker(context.Background(), worker(srv.URL, 0))
	var refused *RefusedError
	if !errors.As(err, &refused) || !strings.Contains(err.Error(), "token") {
		t.Fatalf("RunWorker without the token = %v, want a refusal naming the token", err)
	}
}
