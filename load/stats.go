package load

import "sync/atomic"

// Stats is a live view of the load, for progress lines.
type Stats struct {
	// ActiveVUs are the VUs in service: those allocated by arrival-rate
	// executors, every VU of constant-vus, the current ramp target of
	// ramping-vus (VUs ramped down but finishing their iteration are not
	// counted).
	ActiveVUs int64
	// BusyVUs are running an iteration now.
	BusyVUs int64
	// Started, Completed and Interrupted count iterations; an interrupted
	// one was cut by a stop (graceful stop or ramp-down bound, or the run
	// cancelled) before its last step ended.
	Started, Completed, Interrupted int64
	// Dropped counts arrivals that found no free VU.
	Dropped int64
	// Ops counts operations recorded (dropped arrivals not included).
	Ops int64
}

// add returns the sum of two Stats.
func (s Stats) add(o Stats) Stats {
	return Stats{s.ActiveVUs + o.ActiveVUs, s.BusyVUs + o.BusyVUs, s.Started + o.Started,
		s.Completed + o.Completed, s.Interrupted + o.Interrupted, s.Dropped + o.Dropped, s.Ops + o.Ops}
}

// counters are the atomics behind one scenario's Stats.
type counters struct {
	vus, busy, started, completed, interrupted, dropped, ops atomic.Int64
}

// snapshot reads the counters.
func (c *counters) snapshot() Stats {
	return Stats{c.vus.Load(), c.busy.Load(), c.started.Load(), c.completed.Load(),
		c.interrupted.Load(), c.dropped.Load(), c.ops.Load()}
}
