package slo

import (
	"testing"
	"time"

	"github.com/chaosload/chaosload/config"
)

// BenchmarkJudge judges DESIGN §3's run: 120 s at 200/s, recovery measured.
func BenchmarkJudge(b *testing.B) {
	r := recorder(span{0, 120 * s, 200, shedding})
	spec := designSpec(b, FaultWindow{"f", 40 * s, 70 * s})
	b.ReportAllocs()
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
	for b.Loop() {
		_ = MeasureRecovery(r, ths, config.Recovery{}, 70*s, 600*s)
	}
}
