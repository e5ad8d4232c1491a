// Package monitor samples the resources of the processes under test: CPU
// (percent of one core), resident memory, open file descriptors and
// threads, summed over the named processes and their children (a
// PostgreSQL postmaster's backends come and go; each sample finds them
// again). Readings come from gopsutil (github.com/shirou/gopsutil/v4), the
// package's one heavy dependency.
//
// monitor owns sampling only: it does not judge the figures (package slo
// does, as target_cpu, target_rss, target_fds, target_threads and
// target_rss_slope) nor know which processes make up a stack (the runner
// names them).
package monitor
