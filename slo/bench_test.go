package slo

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/metrics"
)

// BenchmarkJudge judges db-exhaustion's run: 120 s at 200/s, recovery measured.
func BenchmarkJudge(b *testing.B) {
	r := recorder(span{0, 120 * s, 200, shedding})
	spec := designSpec(b, FaultWindow{"f", 40 * s, 70 * s})
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		_ = Judge(r, spec)
	}
}

// BenchmarkRecoveryNever is the worst case: a service that never recovers
// in a 10-minute run, every window up to the end judged (~2,000 windows).
func BenchmarkRecoveryNever(b *testing.B) {
	r := recorder(span{0, 600 * s, 200, slowUntil(time.Hour)})
	ths := steadyState(b)
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		_ = MeasureRecovery(r, ths, config.Recovery{}, 70*s, 600*s)
	}
}

// reportCPU reports the process CPU time (user + system, GC workers
// included) per op, which other processes on a busy machine do not inflate
// as they do wall time. Call it after the setup, defer what it returns.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() {
		b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkAbortCheck is one tick of the abort watch during a run of 2,000
// results/s over 20 series: an error rate over 15 s and a p99 over 5 s.
func BenchmarkAbortCheck(b *testing.B) {
	r := metrics.NewRecorder(metrics.Config{})
	for i := range 60 * 2000 {
		at := time.Duration(i) * s / 2000
		r.Record(&load.Result{Scenario: "shoppers", Step: fmt.Sprint("step", i%20), Target: "api",
			Intended: at, Start: at, End: at + time.Duration(10+i%50)*ms})
	}
	w := NewAbortWatch(config.Thresholds{
		th(b, "errors", "rate > 95% for 15s"),
		th(b, "latency", "p(99) > 5s for 5s"),
	}, AbortConfig{})
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		if fired, reason := w.Check(r, 60*s); fired {
			b.Fatal(reason)
		}
	}
}
