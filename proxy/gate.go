package proxy

import (
	"context"
	"sync"
)

// gate is the connection cap of one conn-limit fault: at most max
// connections hold a slot; with onExcess queue the others wait in line
// (first come, first served) until one closes. Opening the gate (the fault
// is reverted) lets every waiter through and makes every later acquire and
// release a no-op.
type gate struct {
	mu      sync.Mutex
	max     int
	held    int
	waiters []chan struct{} // closed when that waiter is granted a slot
	open    bool
}

func newGate(max int) *gate { return &gate{max: max} }

// tryAcquire takes a slot if one is free.
func (g *gate) tryAcquire() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.open {
		return true
	}
	if g.held < g.max {
		g.held++
		return true
	}
	return false
}

// take counts a slot as held whatever the cap: a connection that was already
// open when the fault was applied.
func (g *gate) take() {
	g.mu.Lock()
	g.held++
	g.mu.Unlock()
}

// acquire waits for a slot until ctx is done or dead is closed, and reports
// whether it got one.
func (g *gate) acquire(ctx context.Context, dead <-chan struct{}) bool {
	g.mu.Lock()
	if g.open || g.held < g.max {
		g.held++
		g.mu.Unlock()
		return true
	}
	ch := make(chan struct{})
	g.waiters = append(g.waiters, ch)
	g.mu.Unlock()
	select {
	case <-ch:
		return true
	case <-ctx.Done():
	case <-dead:
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, w := range g.waiters {
		if w == ch {
			g.waiters = append(g.waiters[:i], g.waiters[i+1:]...)
			return false
		}
	}
	// Granted while giving up: hand the slot on.
	g.releaseLocked()
	return false
}

// release frees a slot, granting it to the first waiter.
func (g *gate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.releaseLocked()
}

func (g *gate) releaseLocked() {
	if g.open {
		return
	}
	if len(g.waiters) > 0 {
		close(g.waiters[0]) // the slot passes on: held stays the same
		g.waiters = g.waiters[1:]
		return
	}
	g.held--
}

// openUp lets every waiter through and turns the gate off for good.
func (g *gate) openUp() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.open = true
	for _, w := range g.waiters {
		close(w)
	}
	g.waiters = nil
}
