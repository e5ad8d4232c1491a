// Package readiness judges a suite of runs against a load-and-stress plan:
// criteria as data (a bundled default and a user's own file of the same
// shape), each mapped to the metric and the experiment tag that measure it;
// the judgement of each criterion from the runs' outcomes (✔, ✘ or not
// measured, with the run and figure that decided it); the capacity, the
// users ladder, recovery times, errors by class and phase and resource
// headroom gathered across the runs; recommendation rules that turn
// measurements into findings, each citing its figures; and a readiness
// verdict (ready, ready with conditions, not ready) with its reasons.
//
// It reads runner.Outcome values and renders nothing (package report does);
// it runs nothing.
package readiness
