package proxy

import (
	"slices"
	"time"
)

// linkState is what a stage remembers on one link across pipeline rebuilds
// (another fault coming or going rebuilds the pipeline): when its fault first
// reached the link and a byte count (passed on by limit-data, dropped by
// timeout). Only the link goroutine and the stage it runs touch it, one after
// the other.
type linkState struct {
	start  time.Time
	passed int64
	ended  bool // limit-data: the limit was reached (counted once)
}

// state returns the link's state for stage f, creating it on first use.
func (l *link) state(f *fault) *linkState {
	if l.states == nil {
		l.states = map[*fault]*linkState{}
	}
	st, ok := l.states[f]
	if !ok {
		st = &linkState{start: time.Now()}
		l.states[f] = st
	}
	return st
}

// keepState forgets the state of stages no longer wanted.
func (l *link) keepState(stages []*fault) {
	for f := range l.states {
		if !slices.Contains(stages, f) {
			delete(l.states, f)
		}
	}
}
