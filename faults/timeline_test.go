package faults

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// journal records what fake actions did, on the timeline's clock.
type journal struct {
	mu     sync.Mutex
	epoch  time.Time
	events []string
}

func (j *journal) add(format string, a ...any) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.events = append(j.events, fmt.Sprintf("%s %s", time.Since(j.epoch), fmt.Sprintf(format, a...)))
}

// fake is an action that journals its apply and revert; applyErr or a panic
// can be asked for.
func (j *journal) fake(name string, applyErr error, panics bool) Action {
	return ActionFunc(func(context.Context) (Revert, error) {
		if panics {
			panic("boom")
		}
		if applyErr != nil {
			return nil, applyErr
		}
		j.add("apply %s", name)
		return func(context.Context) error { j.add("revert %s", name); return nil }, nil
	})
}

// check compares the journal with want. Steps due at one instant run
// together, in no set order, so both are compared sorted; each fault's own
// steps must still come in want's order.
func (j *journal) check(t *testing.T, want []string) {
	t.Helper()
	got := slices.Clone(j.events)
	if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
		t.Fatalf("events:\n got %q\nwant %q", got, want)
	}
	pos := func(ev string) int { return slices.Index(got, ev) }
	for i, a := range want {
		for _, b := range want[i+1:] {
			if sameFault(a, b) && pos(a) > pos(b) {
				t.Fatalf("events %q before %q: got %q", b, a, got)
			}
		}
	}
}

// sameFault reports whether two journal events are of the same fault.
func sameFault(a, b string) bool {
	fa, fb := strings.Fields(a), strings.Fields(b)
	return fa[len(fa)-1] == fb[len(fb)-1]
}

func entry(j *journal, f Fault, applyErr error, panics bool) Entry {
	return Entry{Fault: &f, Action: j.fake(f.Name, applyErr, panics)}
}

func TestTimelineOrder(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		j := &journal{epoch: time.Now()}
		tl := &Timeline{Now: func() time.Duration { return time.Since(j.epoch) }, Entries: []Entry{
			entry(j, Fault{Name: "exhaust", Kind: PoolExhaustion, StartTime: 40 * time.Second, Duration: 30 * time.Second}, nil, false),
			entry(j, Fault{Name: "reset", Kind: Reset, StartTime: 40 * time.Second}, nil, false),
			entry(j, Fault{Name: "slow", Kind: Latency, StartTime: 50 * time.Second, Duration: 30 * time.Second}, nil, false),
		}}
		recs, err := tl.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			"40s apply exhaust", "40s apply reset", "40s revert reset", // same instant: together, the one-shot reverted after its apply
			"50s apply slow",
			"1m10s revert exhaust", "1m20s revert slow",
		}
		j.check(t, want)
		if r := recs[0]; !r.WasApplied || !r.WasReverted || r.Applied != 40*time.Second || r.Reverted != 70*time.Second {
			t.Fatalf("record of exhaust: %+v", r)
		}
	})
}

func TestTimelineRevertsOnCancel(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		j := &journal{epoch: time.Now()}
		tl := &Timeline{Now: func() time.Duration { return time.Since(j.epoch) }, Entries: []Entry{
			entry(j, Fault{Name: "a", Kind: Down, StartTime: time.Second}, nil, false), // no end: until the run ends
			entry(j, Fault{Name: "b", Kind: Latency, StartTime: 2 * time.Second, Duration: time.Minute}, nil, false),
			entry(j, Fault{Name: "never", Kind: Down, StartTime: time.Hour}, nil, false),
		}}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // the interrupt
		defer cancel()
		recs, err := tl.Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		j.check(t, []string{"1s apply a", "2s apply b", "5s revert b", "5s revert a"})
		if recs[2].WasApplied {
			t.Fatal("a fault due after the interrupt was applied")
		}
	})
}

func TestTimelineApplyFailureRevertsTheRest(t *testing.T) {
	t.Parallel()
	for _, panics := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			j := &journal{epoch: time.Now()}
			tl := &Timeline{Now: func() time.Duration { return time.Since(j.epoch) }, Entries: []Entry{
				entry(j, Fault{Name: "a", Kind: Down, StartTime: time.Second, Duration: time.Minute}, nil, false),
				entry(j, Fault{Name: "bad", Kind: Down, StartTime: 2 * time.Second}, errors.New("no such server"), panics),
				entry(j, Fault{Name: "later", Kind: Down, StartTime: 3 * time.Second}, nil, false),
			}}
			recs, err := tl.Run(context.Background())
			if err == nil {
				t.Fatal("want the apply error")
			}
			j.check(t, []string{"1s apply a", "2s revert a"})
			if recs[1].ApplyErr == nil || recs[2].WasApplied {
				t.Fatalf("records: %+v", recs)
			}
		})
	}
}

func TestTimelineRevertErrorReported(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		epoch := time.Now()
		f := Fault{Name: "stuck", Kind: Down, StartTime: time.Second, Duration: time.Second}
		tl := &Timeline{Now: func() time.Duration { return time.Since(epoch) }, RevertTimeout: time.Second,
			Entries: []Entry{{Fault: &f, Action: ActionFunc(func(context.Context) (Revert, error) {
				return func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, nil
			})}}}
		recs, err := tl.Run(context.Background())
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want the revert's deadline", err)
		}
		if recs[0].RevertTook != time.Second {
			t.Fatalf("revert took %v, want the 1s bound", recs[0].RevertTook)
		}
	})
}

// gated is an action whose apply and revert each wait for their gate to be
// closed (a slow apply or revert that blocks), journalling when they begin.
type gated struct {
	j                   *journal
	name                string
	applyGate, undoGate chan struct{}
}

func (g *gated) Apply(context.Context) (Revert, error) {
	g.j.add("begin apply %s", g.name)
	<-g.applyGate
	g.j.add("apply %s", g.name)
	return func(context.Context) error {
		g.j.add("begin revert %s", g.name)
		<-g.undoGate
		g.j.add("revert %s", g.name)
		return nil
	}, nil
}

// TestTimelineStartsTogether: a fault due with a slow one is applied at its
// due time while the slow apply is still blocked, and reverted at its end
// while the slow revert is blocked; the records say when each step was due,
// began and completed.
func TestTimelineStartsTogether(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		j := &journal{epoch: time.Now()}
		slow := &gated{j: j, name: "slow", applyGate: make(chan struct{}), undoGate: make(chan struct{})}
		fs := []Fault{
			{Name: "slow", Kind: PoolExhaustion, StartTime: 10 * time.Second, Duration: 20 * time.Second},
			{Name: "fast", Kind: Latency, StartTime: 10 * time.Second, Duration: 20 * time.Second},
		}
		tl := &Timeline{Now: func() time.Duration { return time.Since(j.epoch) }, Entries: []Entry{
			{Fault: &fs[0], Action: slow},
			{Fault: &fs[1], Action: j.fake("fast", nil, false)},
		}}
		var recs []Record
		done := make(chan struct{})
		go func() { defer close(done); recs, _ = tl.Run(context.Background()) }()

		time.Sleep(15 * time.Second) // slow's apply is still blocked
		synctest.Wait()
		j.check(t, []string{"10s begin apply slow", "10s apply fast"})
		close(slow.applyGate) // it took effect 5 s late...
		time.Sleep(20 * time.Second)
		synctest.Wait()
		// ...and its revert is due at 30 s like fast's: both begin then, and
		// fast's completes while slow's is blocked.
		j.check(t, []string{"10s begin apply slow", "10s apply fast", "15s apply slow", "30s begin revert slow", "30s revert fast"})
		close(slow.undoGate)
		<-done
		want := Record{Name: "slow", Kind: "pool-exhaustion", Duration: 20 * time.Second, Due: 10 * time.Second, ApplyBegan: 10 * time.Second,
			Applied: 15 * time.Second, ApplyTook: 5 * time.Second, RevertDue: 30 * time.Second, RevertBegan: 30 * time.Second,
			Reverted: 35 * time.Second, RevertTook: 5 * time.Second, WasApplied: true, WasReverted: true}
		if recs[0] != want {
			t.Errorf("record of slow:\n got %+v\nwant %+v", recs[0], want)
		}
		if r := recs[1]; r.ApplyBegan != 10*time.Second || r.Applied != 10*time.Second || r.Reverted != 30*time.Second {
			t.Errorf("record of fast: %+v", r)
		}
	})
}

// preparing journals its Prepare and its apply.
type preparing struct {
	j    *journal
	name string
}

func (p preparing) Prepare() { p.j.add("prepare %s", p.name) }

func (p preparing) Apply(ctx context.Context) (Revert, error) {
	p.j.add("apply %s", p.name)
	return func(context.Context) error { return nil }, nil
}

// TestTimelinePreparesFirst: every Preparer due at an instant is prepared
// before any apply of that instant begins, whatever the file order.
func TestTimelinePreparesFirst(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		j := &journal{epoch: time.Now()}
		fs := []Fault{
			{Name: "reset", Kind: Reset, StartTime: time.Second},
			{Name: "hold", Kind: PoolExhaustion, StartTime: time.Second, Duration: time.Second},
		}
		tl := &Timeline{Now: func() time.Duration { return time.Since(j.epoch) }, Entries: []Entry{
			{Fault: &fs[0], Action: j.fake("reset", nil, false)},
			{Fault: &fs[1], Action: preparing{j, "hold"}},
		}}
		if _, err := tl.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if j.events[0] != "1s prepare hold" {
			t.Fatalf("events %q: want the prepare first", j.events)
		}
	})
}
