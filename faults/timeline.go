package faults

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"
)

// DefaultRevertTimeout bounds each revert.
const DefaultRevertTimeout = 10 * time.Second

// Timeline applies and reverts the faults of an experiment on the load's
// clock. Faults due at the same instant are applied in file order, each apply
// completing before the next starts; reverts due together run in reverse
// order. When Run's context ends (the load finished, the run was aborted or
// interrupted), every fault still applied is reverted with a fresh deadline:
// every exit path reverts.
type Timeline struct {
	// Entries are the faults and their actions, in file order.
	Entries []Entry
	// Now returns the offset from the start of the load.
	Now func() time.Duration
	// RevertTimeout bounds each revert (default DefaultRevertTimeout).
	RevertTimeout time.Duration
	// OnEvent, when set, is called after each apply and revert.
	OnEvent func(Event)

	mu      sync.Mutex
	records []Record
}

// Entry is one scheduled fault.
type Entry struct {
	Fault  *Fault
	Action Action
}

// Record is what happened to one fault. Times are offsets from the start of
// the load; Applied is when the apply completed, Reverted when the revert
// completed.
type Record struct {
	Name, Kind, Target string
	Applied, Reverted  time.Duration
	// ApplyTook and RevertTook are how long the calls took.
	ApplyTook, RevertTook time.Duration
	// WasApplied and WasReverted say whether each step happened.
	WasApplied, WasReverted bool
	ApplyErr, RevertErr     error
}

// Event reports one apply or revert as it completes.
type Event struct {
	Record
	// Reverting is false for an apply, true for a revert.
	Reverting bool
}

type step struct {
	at     time.Duration
	index  int
	revert bool
}

// Run carries out the timeline until every fault has been reverted or ctx
// is done, then reverts what is still applied. It returns the records, in
// file order, and an error when a fault could not be applied (the timeline
// stops there and reverts the rest) or reverted.
func (t *Timeline) Run(ctx context.Context) ([]Record, error) {
	t.mu.Lock()
	t.records = make([]Record, len(t.Entries))
	for i, e := range t.Entries {
		t.records[i] = Record{Name: e.Fault.Name, Kind: string(e.Fault.Kind), Target: e.Fault.Target}
	}
	t.mu.Unlock()
	reverts := make([]Revert, len(t.Entries))
	var applyErr error
	for _, s := range t.plan() {
		if !wait(ctx, t.Now, s.at) {
			break
		}
		if s.revert {
			t.revert(s.index, reverts)
			continue
		}
		if err := t.apply(ctx, s.index, reverts); err != nil {
			applyErr = err
			break
		}
	}
	for i := len(reverts) - 1; i >= 0; i-- {
		t.revert(i, reverts)
	}
	recs := t.Records()
	return recs, errors.Join(applyErr, revertErrors(recs))
}

// Records returns a copy of the records so far; safe to call while Run runs.
func (t *Timeline) Records() []Record {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Record(nil), t.records...)
}

// Active returns the names of the faults applied and not yet reverted.
func (t *Timeline) Active() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var names []string
	for _, r := range t.records {
		if r.WasApplied && !r.WasReverted {
			names = append(names, r.Name)
		}
	}
	return names
}

// plan orders the applies and reverts. A one-shot fault reverts right after
// its apply; a fault without an end is reverted when Run's context ends.
func (t *Timeline) plan() []step {
	var steps []step
	for i, e := range t.Entries {
		steps = append(steps, step{at: e.Fault.StartTime, index: i})
		if end, ok := e.Fault.End(); ok {
			steps = append(steps, step{at: end, index: i, revert: true})
		}
	}
	sort.SliceStable(steps, func(a, b int) bool {
		sa, sb := steps[a], steps[b]
		if sa.at != sb.at {
			return sa.at < sb.at
		}
		if sa.revert != sb.revert { // at one instant: applies first, so a
			return !sa.revert // one-shot reset follows its siblings
		}
		if sa.revert {
			return sa.index > sb.index
		}
		return sa.index < sb.index
	})
	return steps
}

func (t *Timeline) apply(ctx context.Context, i int, reverts []Revert) (err error) {
	start := t.Now()
	rev, err := safeApply(ctx, t.Entries[i].Action)
	end := t.Now()
	t.update(i, false, func(r *Record) {
		r.Applied, r.ApplyTook, r.ApplyErr = end, end-start, err
		r.WasApplied = err == nil
	})
	if err != nil {
		return fmt.Errorf("apply fault %q: %w", t.Entries[i].Fault.Name, err)
	}
	reverts[i] = rev
	return nil
}

func (t *Timeline) revert(i int, reverts []Revert) {
	rev := reverts[i]
	if rev == nil {
		return
	}
	reverts[i] = nil
	ctx, cancel := context.WithTimeout(context.Background(), t.revertTimeout())
	defer cancel()
	start := t.Now()
	err := safeRevert(ctx, rev)
	end := t.Now()
	t.update(i, true, func(r *Record) {
		r.Reverted, r.RevertTook, r.RevertErr = end, end-start, err
		r.WasReverted = true
	})
}

func (t *Timeline) update(i int, reverting bool, f func(*Record)) {
	t.mu.Lock()
	f(&t.records[i])
	ev := Event{Record: t.records[i], Reverting: reverting}
	t.mu.Unlock()
	if t.OnEvent != nil {
		t.OnEvent(ev)
	}
}

func (t *Timeline) revertTimeout() time.Duration {
	if t.RevertTimeout > 0 {
		return t.RevertTimeout
	}
	return DefaultRevertTimeout
}

// wait blocks until the clock reaches at; false when ctx ends first.
func wait(ctx context.Context, now func() time.Duration, at time.Duration) bool {
	d := at - now()
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// safeApply turns a panic inside an action into an error, so the timeline
// still reverts everything else.
func safeApply(ctx context.Context, a Action) (rev Revert, err error) {
	defer func() {
		if p := recover(); p != nil {
			rev, err = nil, fmt.Errorf("panic: %v", p)
		}
	}()
	return a.Apply(ctx)
}

func safeRevert(ctx context.Context, r Revert) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return r(ctx)
}

func revertErrors(recs []Record) error {
	var errs []error
	for _, r := range recs {
		if r.RevertErr != nil {
			errs = append(errs, fmt.Errorf("revert fault %q: %w", r.Name, r.RevertErr))
		}
	}
	return errors.Join(errs...)
}
