package faults

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// DefaultRevertTimeout bounds each revert.
const DefaultRevertTimeout = 10 * time.Second

// Timeline applies and reverts the faults of an experiment on the load's
// clock. Every fault runs on its own: faults due at the same instant start
// together, and a slow apply or revert never delays another fault. Before
// the applies of one instant begin, each action that is a Preparer is
// prepared (pool exhaustion starts watching its proxy before a reset due
// with it frees the slots). When Run's context ends (the load finished, the
// run was aborted or interrupted), every fault still applied is reverted
// with a fresh deadline: every exit path reverts.
type Timeline struct {
	// Entries are the faults and their actions, in file order.
	Entries []Entry
	// Now returns the offset from the start of the load.
	Now func() time.Duration
	// RevertTimeout bounds each revert (default DefaultRevertTimeout).
	RevertTimeout time.Duration
	// OnEvent, when set, is called after each apply and revert, one call at
	// a time.
	OnEvent func(Event)
	// OnActing, when set, is called with an instant's due time (its
	// faults' startTime, one of Instants) and the time its faults begin to
	// act (at or after due), before the first of them touches anything
	// (Prepare, Apply): work in flight then meets the faults.
	OnActing func(due, at time.Duration)

	mu      sync.Mutex
	records []Record
	eventMu sync.Mutex
}

// Entry is one scheduled fault.
type Entry struct {
	Fault  *Fault
	Action Action
}

// Preparer is an Action with a quick first step that must be in place
// before any fault due at the same instant acts. Prepare must not block;
// Apply always follows it.
type Preparer interface {
	Prepare()
}

// Holder is an Action that holds server connection slots (pool
// exhaustion); the timeline records its HoldStats.
type Holder interface {
	HoldStats() HoldStats
}

// Record is what happened to one fault. Times are offsets from the start of
// the load: when each step was due, when it began and when it completed.
// Applied is when the apply completed (the fault in effect), Reverted when
// the revert completed.
type Record struct {
	Name, Kind, Target string
	// Duration is the fault's duration (0: one-shot, or until the run
	// ends) and ExpectEffect its expectEffect, as written.
	Duration     time.Duration
	ExpectEffect bool
	// Due is the fault's startTime; RevertDue when its revert was due: its
	// end, or when the run ended first (a fault without an end, an abort).
	Due, RevertDue time.Duration
	// ApplyBegan and RevertBegan are when the calls began.
	ApplyBegan, RevertBegan time.Duration
	Applied, Reverted       time.Duration
	// ApplyTook and RevertTook are how long the calls took.
	ApplyTook, RevertTook time.Duration
	// WasApplied and WasReverted say whether each step happened.
	WasApplied, WasReverted bool
	ApplyErr, RevertErr     error
	// Hold is what a pool exhaustion did at the server; nil for the other
	// kinds.
	Hold *HoldStats
	// Host is what a process or host fault did, read from the kernel or
	// the process after each step (complete once it was reverted); nil for
	// the other kinds.
	Host *HostEffect
}

// Event reports one apply or revert as it completes.
type Event struct {
	Record
	// Reverting is false for an apply, true for a revert.
	Reverting bool
}

// Run carries out the timeline until every fault has been reverted or ctx
// is done, then reverts what is still applied. It returns the records, in
// file order, and an error when a fault could not be applied (the timeline
// then applies nothing more and reverts the rest) or reverted.
func (t *Timeline) Run(ctx context.Context) ([]Record, error) {
	t.mu.Lock()
	t.records = make([]Record, len(t.Entries))
	for i, e := range t.Entries {
		f := e.Fault
		t.records[i] = Record{Name: f.Name, Kind: string(f.Kind), Target: f.Target, Due: f.StartTime,
			Duration: f.Duration, ExpectEffect: f.ExpectEffect}
	}
	t.mu.Unlock()
	ctx, stop := context.WithCancel(ctx) // also ends when an apply fails
	defer stop()
	applyErrs := make([]error, len(t.Entries))
	var wg sync.WaitGroup
	for _, in := range t.instants() {
		wg.Go(func() {
			if !wait(ctx, t.Now, in.at) {
				return
			}
			if t.OnActing != nil {
				t.OnActing(in.at, t.Now())
			}
			for _, i := range in.entries {
				if p, ok := t.Entries[i].Action.(Preparer); ok {
					p.Prepare()
				}
			}
			var applying sync.WaitGroup
			for _, i := range in.entries {
				applying.Go(func() { applyErrs[i] = t.runFault(ctx, i, stop) })
			}
			applying.Wait()
		})
	}
	wg.Wait()
	recs := t.Records()
	return recs, errors.Join(errors.Join(applyErrs...), revertErrors(recs))
}

// instant is the entries due at one time, in file order.
type instant struct {
	at      time.Duration
	entries []int
}

// Instants returns the instants of a timeline of fs: their distinct
// startTimes, in the order they first appear. The faults due at one
// instant begin to act together, at or after it.
func Instants(fs []*Fault) []time.Duration {
	var out []time.Duration
	seen := map[time.Duration]bool{}
	for _, f := range fs {
		if !seen[f.StartTime] {
			seen[f.StartTime] = true
			out = append(out, f.StartTime)
		}
	}
	return out
}

// Instants returns the timeline's instants (see the function Instants).
func (t *Timeline) Instants() []time.Duration { return Instants(t.faults()) }

// faults returns the entries' faults, in file order.
func (t *Timeline) faults() []*Fault {
	fs := make([]*Fault, len(t.Entries))
	for i, e := range t.Entries {
		fs[i] = e.Fault
	}
	return fs
}

// instants groups the entries by startTime, in the order of Instants.
func (t *Timeline) instants() []instant {
	ats := t.Instants()
	ins := make([]instant, len(ats))
	k := make(map[time.Duration]int, len(ats))
	for i, at := range ats {
		ins[i].at, k[at] = at, i
	}
	for i, e := range t.Entries {
		ins[k[e.Fault.StartTime]].entries = append(ins[k[e.Fault.StartTime]].entries, i)
	}
	return ins
}

// runFault applies fault i, waits for its end (at once for a one-shot, when
// ctx ends for a fault without one) and reverts it. A failed apply stops the
// whole timeline.
func (t *Timeline) runFault(ctx context.Context, i int, stop context.CancelFunc) error {
	rev, err := t.apply(ctx, i)
	if err != nil {
		stop()
		return err
	}
	f := t.Entries[i].Fault
	due := f.StartTime
	switch end, bounded := f.End(); {
	case f.OneShot():
	case bounded && wait(ctx, t.Now, end):
		due = end
	default:
		<-ctx.Done()
		due = t.Now()
	}
	t.revert(i, rev, due)
	return nil
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

func (t *Timeline) apply(ctx context.Context, i int) (Revert, error) {
	start := t.Now()
	rev, err := safeApply(ctx, t.Entries[i].Action)
	end := t.Now()
	t.update(i, false, func(r *Record) {
		r.ApplyBegan, r.Applied, r.ApplyTook, r.ApplyErr = start, end, end-start, err
		r.WasApplied = err == nil
	})
	if err != nil {
		return nil, fmt.Errorf("apply fault %q: %w", t.Entries[i].Fault.Name, err)
	}
	return rev, nil
}

// revert runs rev with a fresh deadline; due is when it was due.
func (t *Timeline) revert(i int, rev Revert, due time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), t.revertTimeout())
	defer cancel()
	start := t.Now()
	err := safeRevert(ctx, rev)
	end := t.Now()
	t.update(i, true, func(r *Record) {
		r.RevertDue, r.RevertBegan, r.Reverted, r.RevertTook, r.RevertErr = due, start, end, end-start, err
		r.WasReverted = true
	})
}

// update changes record i, then reports it (one OnEvent call at a time).
func (t *Timeline) update(i int, reverting bool, f func(*Record)) {
	var hold *HoldStats
	if h, ok := t.Entries[i].Action.(Holder); ok {
		st := h.HoldStats()
		hold = &st
	}
	var host *HostEffect
	if hr, ok := t.Entries[i].Action.(HostReporter); ok {
		host = hr.HostEffect()
	}
	t.mu.Lock()
	f(&t.records[i])
	t.records[i].Hold, t.records[i].Host = hold, host
	ev := Event{Record: t.records[i], Reverting: reverting}
	t.mu.Unlock()
	if t.OnEvent != nil {
		t.eventMu.Lock()
		defer t.eventMu.Unlock()
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
