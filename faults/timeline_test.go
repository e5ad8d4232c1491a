package faults

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
			"40s apply exhaust", "40s apply reset", "40s revert reset", // same instant: file order, the one-shot right after
			"50s apply slow",
			"1m10s revert exhaust", "1m20s revert slow",
		}
		if !slices.Equal(j.events, want) {
			t.Fatalf("events:\n got %q\nwant %q", j.events, want)
		}
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
		want := []string{"1s apply a", "2s apply b", "5s revert b", "5s revert a"}
		if !slices.Equal(j.events, want) {
			t.Fatalf("events:\n got %q\nwant %q", j.events, want)
		}
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
			want := []string{"1s apply a", "2s revert a"}
			if !slices.Equal(j.events, want) {
				t.Fatalf("panics=%v events:\n got %q\nwant %q", panics, j.events, want)
			}
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
