// Package slo judges a run: it evaluates threshold expressions over windows
// of recorded results, groups the faults into episodes (config.GroupEpisodes)
// and cuts the run into phases (warm-up, baseline, then per episode fault,
// gap, recovery, steady), measures the time to recover after each episode,
// turns all of that into a list of checks, and watches abort conditions while
// the run is under way.
//
// slo is pure logic: it reads results through Source (implemented by
// *metrics.Recorder, or anything a test fills with synthetic results) and
// returns data. It does no I/O, starts no goroutines, parses nothing (the
// grammar is package config's) and renders nothing (that is package report).
//
// Two rules hold everywhere:
//
//   - A window without operations is no evidence of health: every threshold
//     evaluated on it fails, observed "no data" (and no abort condition fires
//     on it).
//   - Results belong to the interval of their intended start, so an interval
//     is complete only when every request issued in it has finished. Recovery
//     and Judge run after the load has ended and see complete data up to the
//     load end; AbortWatch runs during the load and leaves out the interval
//     still being issued (see AbortConfig.Settle).
package slo
