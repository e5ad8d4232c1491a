package faults_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chaosload/chaosload/faults"
)

// BenchmarkProofLatency measures what TestProofLatency proves, as figures:
// the delay a downstream latency fault of 10 ms and of 100 ms adds to a pgx
// SELECT 1 and to a GET of the demo service, at the median and at p99 (the
// time with the fault minus the median without, the baseline paced like the
// faulted operations), in ms. Printed, never judged: a shared machine moves
// them (`go test -run '^$' -bench ProofLatency ./faults`, part of make
// bench).
func BenchmarkProofLatency(b *testing.B) {
	for _, cl := range latencyClients(b) {
		for _, lat := range []time.Duration{10 * time.Millisecond, 100 * time.Millisecond} {
			b.Run(fmt.Sprintf("%s %v", cl.name, lat), func(b *testing.B) {
				// A server idle for 100 ms between requests answers a
				// little slower than one kept busy, and that is not the
				// proxy's doing: the baseline waits the latency between
				// operations too.
				before := cl.times(b, 20, lat)
				undo, err := cl.p.Inject(context.Background(), "bench-latency", faults.LatencySpec{Latency: lat, Direction: faults.Downstream}, 1)
				if err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				with := cl.times(b, b.N, 0)
				b.StopTimer()
				if err := undo(context.Background()); err != nil {
					b.Fatal(err)
				}
				base := quantile(append(before, cl.times(b, 20, lat)...), 0.5)
				b.ReportMetric(float64(lat)/float64(time.Millisecond), "want-ms")
				b.ReportMetric(float64(quantile(with, 0.5)-base)/float64(time.Millisecond), "added-p50-ms")
				b.ReportMetric(float64(quantile(with, 0.99)-base)/float64(time.Millisecond), "added-p99-ms")
			})
		}
	}
}

// times runs the operation n times, gap apart, and returns each duration.
func (c latencyClient) times(tb testing.TB, n int, gap time.Duration) []time.Duration {
	tb.Helper()
	ds := make([]time.Duration, 0, n)
	for range n {
		if gap > 0 {
			time.Sleep(gap) // pacing, as the faulted operations are paced by their delay
		}
		ds = append(ds, c.timed(tb))
	}
	return ds
}
