package cluster

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/metrics"
)

// TestWorkerHearsTheEdges: the coordinator tells its worker the fault
// timeline's edges in its replies to the worker's frames. Arrival 0 is in
// flight when the fault begins (told to the coordinator's metrics.Edges,
// as the runner's timeline tells it), ends, and only then is the apply
// told: the worker files it in the fault's first interval (the first at or
// after the apply), not in interval 0 of its start. Arrival 1 holds the
// worker's load open until the coordinator has the casualty.
func TestWorkerHearsTheEdges(t *testing.T) {
	c, url := startCoordinator(t, 1)
	timeline := metrics.NewEdges(c.Recorder(), []time.Duration{0})
	c.EdgesFrom(timeline.Edges)
	inFlight := make(chan time.Duration, 1)
	release, recorded, heard := make(chan struct{}), make(chan struct{}), make(chan struct{})
	block := driverFunc(func(_ context.Context, vu *load.VU, _ *load.Step, res *load.Result) {
		res.Start = vu.Clock.Now()
		if vu.Iteration == 0 {
			inFlight <- vu.Clock.Now()
			<-release
		} else {
			<-heard
		}
		res.End = vu.Clock.Now()
	})
	cfg := worker(url, 0)
	cfg.Instants = []time.Duration{0}
	cfg.Load = func(seed int64, _ map[string]string, seg load.Segment, sink load.Sink, clock load.Clock) (*load.Load, error) {
		sc := load.Scenario{Name: "s", Executor: load.ConstantArrivalRate, Rate: 2, Duration: time.Second,
			PreAllocatedVUs: 2, Steps: quickLoad.Steps}
		return load.New([]load.Scenario{sc}, load.Config{Drivers: map[load.Protocol]load.Driver{load.HTTP: block},
			Sink: notifySink{sink, &sync.Once{}, recorded}, Seed: seed, Clock: clock, Logger: zerolog.Nop(), Segment: seg})
	}
	wait := runWorkers(context.Background(), cfg)
	_, err := c.Start(context.Background(), 5, map[string]string{"targets.api": "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	// the fault begins while arrival 0 runs, on the worker's clock (its
	// epoch is the coordinator's plus the reply's way: the test tells a
	// time in the operation's span whatever that is)
	var began time.Duration
	select {
	case began = <-inFlight:
	case <-time.After(time.Minute):
		t.Fatal("arrival 0 not in flight in a minute")
	}
	timeline.Begin(0, began)
	close(release)
	receive(t, recorded, "arrival 0 recorded") // it ended and went to the worker's edges
	iv := c.Recorder().Interval()
	applied := began + iv // the apply took a while
	timeline.Apply(0, applied)
	first := (applied + iv - 1) / iv * iv
	waitFor(t, func() bool { return c.Recorder().Window(first, first+iv, metrics.Selector{}).Ops == 1 })
	close(heard)
	if err := c.Wait(context.Background()); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if err := wait()[0]; err != nil {
		t.Fatalf("worker: %v", err)
	}
	rec := c.Recorder()
	if all, start := rec.Window(0, time.Minute, metrics.Selector{}).Ops, rec.Window(0, iv, metrics.Selector{}).Ops; all != 2 || start != 0 {
		t.Fatalf("%d operations merged, %d in the interval of arrival 0's start; want 2 and 0", all, start)
	}
	t.Logf("arrival 0, in flight at the fault's start, filed at %v (applied at %v)", first, applied)
}

// notifySink records into sink, and closes done after the first result.
type notifySink struct {
	sink load.Sink
	once *sync.Once
	done chan struct{}
}

func (n notifySink) Record(res *load.Result) {
	n.sink.Record(res)
	n.once.Do(func() { close(n.done) })
}

// receive waits for ch, failing after a minute (a hang).
func receive(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(time.Minute):
		t.Fatalf("%s: not in a minute", what)
	}
}
