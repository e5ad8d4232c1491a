package report

import (
	"io"
	"testing"

	"github.com/chaosload/chaosload/runner"
)

// BenchmarkHTMLHour renders the HTML report of an hour-long run (14,400
// intervals, merged to at most maxPoints points per series).
func BenchmarkHTMLHour(b *testing.B) {
	o := passedOutcome()
	o.Intervals = syntheticIntervals(3600, 0.25, 1000, 1100)
	o.DurationS = 3600
	b.ReportAllocs()
	for b.Loop() {
		if err := HTML(io.Discard, o); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJUnit renders the JUnit document of three experiments.
func BenchmarkJUnit(b *testing.B) {
	outs := []*runner.Outcome{passedOutcome(), failedOutcome(), erroredOutcome()}
	b.ReportAllocs()
	for b.Loop() {
		if err := JUnit(io.Discard, outs...); err != nil {
			b.Fatal(err)
		}
	}
}
