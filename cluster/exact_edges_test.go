package cluster

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"

	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/metrics"
)

// faultEdge is the fault timeline of the edge test: one instant due at
// due, whose faults began to act at began and were first applied at
// applied. One process is told each as it happens; a worker hears them
// late, as a reply to its frames: at its first cut from tellBegan that the
// faults began, at its first cut from tellApplied the apply.
type faultEdge struct{ due, began, applied, tellBegan, tellApplied time.Duration }

// lateEdge begins 3 ms after it was due and is applied 150 ms later; the
// workers hear of it at 1.2 s and 1.5 s, after every operation it met has
// ended (the latest, 291 ms long, by 1.3 s).
var lateEdge = faultEdge{due: time.Second, began: time.Second + 3*time.Millisecond,
	applied: 1150 * time.Millisecond, tellBegan: 1200 * time.Millisecond, tellApplied: 1500 * time.Millisecond}

// edges returns what fe says at now: nothing, that it began, or both.
func (fe faultEdge) edges(now time.Duration) []metrics.Edge {
	switch {
	case now >= fe.tellApplied:
		return []metrics.Edge{{Due: fe.due, Began: fe.began, Begun: true, Applied: fe.applied, Known: true}}
	case now >= fe.tellBegan:
		return []metrics.Edge{{Due: fe.due, Began: fe.began, Begun: true}}
	}
	return nil
}

// met says whether res was in flight when fe's faults began.
func (fe faultEdge) met(res *load.Result) bool { return res.Intended < fe.began && fe.began < res.End }

// runEdged runs sc as segment seg under virtual time through
// metrics.Edges: one process (seg.Count 0) into a recorder, told of fe as
// its timeline would; a worker into an Outbox cut every 300 ms (and once
// at its end, after Edges.Flush), told of fe after its cuts as a worker
// hears the coordinator. It returns the recorder (one process) or the
// frames (a worker), and how many operations met the faults.
func runEdged(t *testing.T, sc load.Scenario, p profile, seg load.Segment, fe faultEdge) (*metrics.Recorder, []Frame, int64) {
	t.Helper()
	cfg := metrics.Config{Interval: 100 * time.Millisecond}
	rec, box := metrics.NewRecorder(cfg), NewOutbox(seg.Index, 1, cfg)
	var to metrics.Filer = box
	if seg.Count == 0 {
		to = rec
	}
	edges := metrics.NewEdges(to, []time.Duration{fe.due})
	casualties := &metCounter{fe: fe}
	var frames []Frame
	synctest.Test(t, func(t *testing.T) {
		clock := load.Clock{Epoch: time.Now()}
		l, err := load.New([]load.Scenario{sc}, load.Config{
			Drivers: map[load.Protocol]load.Driver{load.HTTP: indexDriver(p)}, Sink: tee{edges, casualties}, Seed: 11,
			Clock: clock, Logger: zerolog.Nop(), Segment: seg,
		})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		var side sync.WaitGroup
		if seg.Count == 0 {
			side.Go(func() { timeline(edges, clock, fe) })
		} else {
			side.Go(func() { frames = cutAndHear(t, box, edges, clock, fe, done) })
		}
		err = l.Run(context.Background())
		close(done)
		side.Wait()
		if err != nil {
			t.Fatal(err)
		}
		edges.Flush()
		frames = append(frames, cut(t, box)...)
	})
	return rec, frames, casualties.n
}

// timeline tells edges of fe as a timeline in the same process does: as
// its faults begin and as the first is applied (virtual time).
func timeline(edges *metrics.Edges, clock load.Clock, fe faultEdge) {
	until(clock, fe.began)
	edges.Begin(fe.due, fe.began)
	until(clock, fe.applied)
	edges.Apply(fe.due, fe.applied)
}

// until waits for clock to reach at, as faults.Timeline waits for an
// instant.
func until(clock load.Clock, at time.Duration) {
	timer := time.NewTimer(at - clock.Now())
	defer timer.Stop()
	<-timer.C
}

// cutAndHear cuts box every 300 ms until done, then tells edges what fe
// says by then, as a worker's streamer hears a reply to its post.
func cutAndHear(t *testing.T, box *Outbox, edges *metrics.Edges, clock load.Clock, fe faultEdge, done <-chan struct{}) []Frame {
	var frames []Frame
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return frames
		case <-tick.C:
			frames = append(frames, cut(t, box)...)
			edges.Tell(fe.edges(clock.Now()))
		}
	}
}

// metCounter counts the results that met fe's faults.
type metCounter struct {
	fe faultEdge
	mu sync.Mutex
	n  int64
}

func (c *metCounter) Record(res *load.Result) {
	if c.fe.met(res) {
		c.mu.Lock()
		c.n++
		c.mu.Unlock()
	}
}

// TestWorkersFileFaultEdgesAsOneProcess: with a fault that begins 1 s into
// the load, one process filing through metrics.Edges (the runner's) and N
// ∈ {1, 2, 3, 7} workers that hear the fault's edges late (after the
// operations it met have ended, and the apply later still), their frames
// merged, hold the same recorder bucket for bucket, and the same verdict;
// the operations the fault met are in its first interval (the first at or
// after the apply), and the workers sent that interval in several cuts.
func TestWorkersFileFaultEdgesAsOneProcess(t *testing.T) {
	fe := lateEdge
	for name, sc := range scenarios() {
		t.Run(name, func(t *testing.T) {
			byStart, _ := runSegment(t, sc, mixed, load.Segment{})
			whole, _, met := runEdged(t, sc, mixed, load.Segment{}, fe)
			iv := whole.Interval()
			first := (fe.applied + iv - 1) / iv * iv
			moved := whole.Window(first, first+iv, metrics.Selector{}).Ops - byStart.Window(first, first+iv, metrics.Selector{}).Ops
			if met == 0 || moved != met {
				t.Fatalf("%d operations met the fault, %d more in its first interval than by their start; want as many, > 0", met, moved)
			}
			want := judge(t, whole)
			for _, n := range []int{1, 2, 3, 7} {
				var frames []Frame
				for i := range n {
					_, fs, _ := runEdged(t, sc, mixed, load.Segment{Index: i, Count: n}, fe)
					frames = append(frames, fs...)
				}
				framed := mergeFrames(t, frames)
				cells := assertSameCells(t, framed, whole)
				if v := judge(t, framed); fmt.Sprint(v) != fmt.Sprint(want) {
					t.Errorf("%d workers: verdict %s, want %s", n, v, want)
				}
				if c := maxCuts(frames, int(first/iv)); c < 2 {
					t.Errorf("%d workers: the fault's first interval came in %d cut(s) of a worker, want several", n, c)
				}
				if n == 7 {
					t.Logf("%d operations met the fault, all in its first interval; %d workers: %d cells equal one process's; verdict %s",
						met, n, cells, want)
				}
			}
		})
	}
}

// maxCuts is the most cuts of one worker that carried interval k.
func maxCuts(frames []Frame, k int) int {
	cuts := map[int]map[int64]bool{}
	most := 0
	for _, f := range frames {
		if f.Interval != k {
			continue
		}
		if cuts[f.Worker] == nil {
			cuts[f.Worker] = map[int64]bool{}
		}
		cuts[f.Worker][f.Seq] = true
		most = max(most, len(cuts[f.Worker]))
	}
	return most
}
