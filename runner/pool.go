package runner

import (
	"context"
	"time"
)

// PoolStack is a Stack whose service counts its PostgreSQL connection
// pool's acquires (demo.Stack: from the service's /healthz), cumulative
// since the service started: every acquire, those that found the pool
// empty and waited for a connection, and how long those waited, summed.
type PoolStack interface {
	PoolCounters(ctx context.Context) (acquires, emptyWaits int64, emptyWait time.Duration, err error)
}

// PoolWait is what the stack service's PostgreSQL connection pool counted
// while the load ran: requests waiting for a pooled connection.
type PoolWait struct {
	// Acquires counts connections handed out by the pool.
	Acquires int64 `json:"acquires"`
	// Waited counts the acquires that found the pool empty and waited for
	// a connection to be released or opened; WaitMS is how long they
	// waited, summed.
	Waited int64   `json:"waited"`
	WaitMS float64 `json:"wait_ms"`
}

// poolCounters is one reading of a PoolStack.
type poolCounters struct {
	acquires, waited int64
	wait             time.Duration
}

// readPool reads the stack's pool counters; ok is false without a stack
// that counts them, or when they could not be read.
func (r *run) readPool(ctx context.Context) (c poolCounters, ok bool) {
	ps, is := r.stack.(PoolStack)
	if !is {
		return c, false
	}
	var err error
	if c.acquires, c.waited, c.wait, err = ps.PoolCounters(ctx); err != nil {
		r.opts.Logger.Debug().Err(err).Msg("pool counters not read")
		return c, false
	}
	return c, true
}

// poolWait is what the pool counted between two readings; nil when either
// is missing or a counter went back (the service restarted in between:
// its counters started again).
func poolWait(before, after poolCounters, okBefore, okAfter bool) *PoolWait {
	if !okBefore || !okAfter || after.acquires < before.acquires || after.waited < before.waited || after.wait < before.wait {
		return nil
	}
	return &PoolWait{Acquires: after.acquires - before.acquires, Waited: after.waited - before.waited,
		WaitMS: ms(after.wait - before.wait)}
}
