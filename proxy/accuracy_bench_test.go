package proxy_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/proxy"
)

// How accurate the faults are, as figures: measured by real clients and
// printed (`go test -run '^$' -bench Accuracy ./proxy`, part of make bench),
// never judged by a test, since a shared machine moves them. The tests
// prove what cannot depend on the machine's speed: that each delay is at
// least what was asked, in which direction, and how often.

// BenchmarkLatencyAccuracy measures each latency fault of latencyCases
// through net/http: the median GET without the fault (30 before and 30
// after), then b.N GETs with it. Reported: the delay added at the median
// and at p99 (the time with the fault minus the median without) next to
// what was asked (latency, twice for both directions), in ms.
func BenchmarkLatencyAccuracy(b *testing.B) {
	for _, tc := range latencyCases {
		b.Run(tc.name, func(b *testing.B) {
			p, client, url := httpThroughProxy(b, nil)

			before := getTimes(b, client, url, 30)
			undo, err := p.Inject(context.Background(), "lat", tc.spec, 1)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			with := getTimes(b, client, url, b.N)
			b.StopTimer()
			if err := undo(context.Background()); err != nil {
				b.Fatal(err)
			}
			base := median(append(before, getTimes(b, client, url, 30)...))
			want := tc.spec.Latency
			if tc.spec.Direction == faults.Both {
				want *= 2
			}
			b.ReportMetric(ms(want), "want-ms")
			b.ReportMetric(ms(median(with)-base), "added-p50-ms")
			b.ReportMetric(ms(quantile(with, 0.99)-base), "added-p99-ms")
			b.ReportMetric(ms(base), "base-p50-ms")
		})
	}
}

// BenchmarkRoundTripUnderFlood measures echo round trips on one connection
// while another is stuck behind a flooding upstream (its client never
// reads, so the proxy's write to it blocks): without a fault and with a
// 20 ± 5 ms downstream latency fault. Reported: p50 and p99 in ms. The
// freeze tests prove that the stuck connection holds up neither the fault
// changes nor the other connection; this is how much it costs.
func BenchmarkRoundTripUnderFlood(b *testing.B) {
	for _, faulted := range []bool{false, true} {
		name := "no fault"
		if faulted {
			name = "latency 20ms"
		}
		b.Run(name, func(b *testing.B) {
			up := serveTCP(b, floodOrEcho)
			p := startProxy(b, proxy.Config{Name: "flood", Upstream: up.Addr(), Seed: 1})
			target := &chaosloadTarget{p: p}
			stuck := dial(b, p.Addr())
			if _, err := stuck.Write([]byte("F")); err != nil {
				b.Fatal(err)
			}
			waitBackPressured(b, target)
			other := dial(b, p.Addr())
			if _, err := other.Write([]byte("E")); err != nil {
				b.Fatal(err)
			}
			if faulted {
				if err := target.apply(); err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { target.revert() })
			}
			ds := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				ds = append(ds, mustRoundTrip(b, other))
			}
			b.StopTimer()
			b.ReportMetric(ms(median(ds)), "rt-p50-ms")
			b.ReportMetric(ms(quantile(ds, 0.99)), "rt-p99-ms")
		})
	}
}

// BenchmarkBandwidthAccuracy fetches 256 KB through a 512 KB/s downstream
// bandwidth fault b.N times. Reported: the rate the client measured, as a
// share of the limit.
func BenchmarkBandwidthAccuracy(b *testing.B) {
	const rate, size = 512_000, 256_000
	payload := make([]byte, size)
	up := serveTCP(b, sender(payload))
	p := startProxy(b, proxy.Config{Name: "bw", Upstream: up.Addr()})
	undo, err := p.Inject(context.Background(), "bw", faults.BandwidthSpec{Rate: rate, Direction: faults.Downstream}, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { undo(context.Background()) })
	var took time.Duration
	b.ResetTimer()
	for range b.N {
		got, reads, err := fetch(b, p.Addr())
		if err != io.EOF || len(got) != size {
			b.Fatalf("got %d bytes, end %v", len(got), err)
		}
		took += reads[len(reads)-1]
	}
	b.ReportMetric(float64(size*b.N)/took.Seconds()/rate, "rate/limit")
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
