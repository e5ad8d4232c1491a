package demo

import (
	"sync"
	"time"
)

// breaker keeps calls away from a dependency for cooldown after threshold
// consecutive failures, so that a dead or black-holed Redis costs graceful
// mode a few timeouts per cooldown rather than one per request. After the
// cooldown calls go through again; threshold more failures reopen it. A nil
// breaker always allows.
type breaker struct {
	threshold int
	cooldown  time.Duration

	mu        sync.Mutex
	failures  int
	openUntil time.Time
}

// allow reports whether a call may be made now.
func (b *breaker) allow() bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return !time.Now().Before(b.openUntil)
}

// record counts the outcome of a call.
func (b *breaker) record(ok bool) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if ok {
		b.failures = 0
		return
	}
	b.failures++
	if b.failures >= b.threshold {
		b.failures = 0
		b.openUntil = time.Now().Add(b.cooldown)
	}
}
