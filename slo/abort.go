package slo

import (
	"sync"
	"time"

	"github.com/chaosload/chaosload/config"
)

// DefaultAbortWindow is the trailing window of an abort condition written
// without "for".
const DefaultAbortWindow = time.Second

// AbortConfig tunes an AbortWatch. The zero value is the default.
type AbortConfig struct {
	// Settle is how far behind now the judged data ends. Results belong to
	// the interval of their intended start, so the most recent intervals
	// still have requests in flight: their slow results (timeouts above
	// all) have not been recorded yet. Zero leaves out only the interval
	// still being issued, which reacts fastest but judges recent intervals
	// on the results that are in; the longest operation timeout makes the
	// data complete at the price of reacting that much later.
	Settle time.Duration
	// Net is the same results less the generator's own lateness
	// (metrics.Recorder.WithoutLateness). With it, a condition on a
	// duration that includes that lateness (LatenessBound) fires only when
	// it holds both ways: the generator's own lateness never stops a run.
	// nil judges each condition once.
	Net Source
}

// AbortWatch decides, while the load runs, whether an abort condition
// holds; the runner calls Check on every tick. It remembers nothing from one
// Check to the next but the histograms it reuses, and is safe for
// concurrent use.
type AbortWatch struct {
	conds config.Thresholds
	cfg   AbortConfig
	mu    sync.Mutex // guards pool
	pool  histPool
}

// NewAbortWatch returns a watch over the experiment's abort conditions.
func NewAbortWatch(conds config.Thresholds, cfg AbortConfig) *AbortWatch {
	return &AbortWatch{conds: conds, cfg: cfg}
}

// Check reports whether an abort condition holds at now (an offset from the
// load start), and which one, with what was observed.
//
// A condition with "for D" holds when it holds on the aggregate of the
// trailing window of length D ending at the judged edge, and at least D of
// load lies before that edge; without "for" the window is
// DefaultAbortWindow. The judged edge is the last interval boundary at or
// before now − Settle, so the interval still being issued is never judged:
//
//	          ├──────── D ────────┤ settle
//	──┼───┼───┼───┼───┼───┼───┼───┼─·─┼──▶
//	                          edge ┘   └ now (in-progress interval left out)
//
// A window without operations never triggers an abort (no data is not
// evidence of failure either; a stalled service shows as timeouts).
//
// A load that knows the intended start of its oldest operation still in
// flight may pass that as now (with Settle zero): every interval before it
// is complete, so the judgement is exact and reacts as early as possible.
func (w *AbortWatch) Check(src Source, now time.Duration) (fired bool, reason string) {
	step := src.Interval()
	edge := alignDown(now-w.cfg.Settle, step)
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, th := range w.conds {
		d := th.Cond.For
		if d <= 0 {
			d = DefaultAbortWindow
		}
		d = alignUp(d, step)
		if edge-d < 0 {
			continue // not enough load yet
		}
		obs := w.evaluate(src, th, edge-d, edge)
		if obs.Pass && w.cfg.Net != nil && LatenessBound(th) {
			obs.Pass = w.evaluate(w.cfg.Net, th, edge-d, edge).Pass
		}
		if obs.Pass {
			return true, th.Key + ": " + th.Cond.Text + " held: " + obs.String() +
				" over " + showSeconds(edge-d) + "–" + showSeconds(edge)
		}
	}
	return false, ""
}

// evaluate evaluates th over [from, to) of src with the watch's pool; w.mu
// must be held.
func (w *AbortWatch) evaluate(src Source, th config.Threshold, from, to time.Duration) Observation {
	set := newWindowSet(src, from, to, &w.pool)
	defer set.release()
	return set.evaluate(th)
}
