// Package metrics is the recorder: it turns every load.Result into counters
// and HDR histograms kept per interval (at most 250 ms) and per tag set
// (scenario, step, protocol, target, class), and answers questions about any
// window of the run by merging those intervals exactly.
//
// Each (interval, series) cell keeps its timings as raw samples while it is
// small and moves them into sparse HDR histograms (1 µs – 1 h, 3 significant
// digits) once it is busy (see rawLimit); windows always merge into dense
// HDR histograms, so both give identical answers.
//
// A long run (a game day) bounds its memory with a Retention: the recent
// intervals stay at full resolution, older ones are merged, exactly, into a
// bounded number of coarser past intervals (Compact).
//
// Every timed result also keeps the generator's own lateness (its intended
// start → hand-off to the driver), so that Recorder.WithoutLateness answers
// every window again with latency and dispatch lag less that lateness, as
// exactly, over the past's intervals too (they merge every histogram a cell
// keeps): a check judged both ways tells whether the generator could have
// changed it.
//
// A result is charged to the interval of its *intended* start, not of its
// completion: a request issued during a fault that times out after the fault
// ended belongs to the fault. Failed operations are data: their latency is
// recorded like any other. A dropped arrival (class "dropped") never ran, so
// it counts as an operation and an error but adds nothing to the histograms.
//
// metrics owns recording, windows, per-interval series and exact merges. It
// does not judge anything (that is package slo), render anything (package
// report), or start goroutines: every method runs on its caller's goroutine.
package metrics
