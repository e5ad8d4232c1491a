package metrics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chaosload/chaosload/load"
)

// The load the benchmarks model: 20 series (2 scenarios × 2 steps ×
// 5 outcomes) at 2,000 results per second, latencies log-normal around
// 20 ms with a tail.
const (
	benchRate   = 2000
	benchSeries = 20
)

// benchResults returns n results of the modelled load at benchRate.
func benchResults(n int) []load.Result { return benchResultsAt(n, benchRate) }

// benchResultsAt returns n results of the modelled load at rate per second,
// starting at 0.
func benchResultsAt(n, rate int) []load.Result {
	rng := rand.New(rand.NewPCG(1, 1))
	classes := []string{"", "", "", "", "", "", "", "", load.ClassTimeout, load.ClassHTTP503}
	out := make([]load.Result, n)
	for i := range out {
		at := time.Duration(i) * time.Second / time.Duration(rate)
		lat := time.Duration(math.Exp(rng.NormFloat64()*0.6) * float64(20*time.Millisecond))
		lag := time.Duration(rng.IntN(200)) * time.Microsecond
		s := i % benchSeries
		out[i] = load.Result{
			Scenario: fmt.Sprint("scenario", s%2), Step: fmt.Sprint("step", s/2%2),
			Protocol: load.HTTP, Target: "api", Class: classes[s/4%5*2+s%2],
			Intended: at, Dispatched: at + lag/2, Start: at + lag, End: at + lag + lat,
		}
	}
	return out
}

// BenchmarkRecord is the hot path from one goroutine, over a stream that
// moves through the intervals as a real run does (new cells included).
func BenchmarkRecord(b *testing.B) { benchmarkRecord(b, benchResults(1<<16)) }

// BenchmarkRecordPacked is the hot path into busy cells, past rawLimit:
// one series at 20,000 results per second (5,000 per interval), so every
// result after an interval's first 256 goes into its histograms.
func BenchmarkRecordPacked(b *testing.B) {
	results := benchResultsAt(1<<16, 20000)
	for i := range results {
		results[i].Scenario, results[i].Step, results[i].Class = "scenario0", "step0", ""
	}
	benchmarkRecord(b, results)
}

// benchmarkRecord records results over and over from one goroutine, time
// moving forward.
func benchmarkRecord(b *testing.B, results []load.Result) {
	span := results[len(results)-1].Intended + time.Second
	b.ReportAllocs()
	r := NewRecorder(Config{})
	b.ResetTimer()
	for i := range b.N {
		res := results[i%len(results)]
		res.Intended += time.Duration(i/len(results)) * span // keep time moving forward
		r.Record(&res)
	}
}

// BenchmarkRecordParallel is the hot path from GOMAXPROCS goroutines at once
// (RunParallel), all recording into the same few intervals.
func BenchmarkRecordParallel(b *testing.B) {
	results := benchResults(1 << 16)
	span := results[len(results)-1].Intended + time.Second
	b.ReportAllocs()
	r := NewRecorder(Config{})
	var next atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(next.Add(1))
			res := results[i%len(results)]
			res.Intended += time.Duration(i/len(results)) * span
			r.Record(&res)
		}
	})
}

// BenchmarkWindow is one 5 s window over every series, the unit of work of
// recovery detection and of the abort watch.
func BenchmarkWindow(b *testing.B) {
	r := NewRecorder(Config{})
	results := benchResults(60 * benchRate)
	for i := range results {
		r.Record(&results[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		from := time.Duration(i%50) * time.Second
		_ = r.Window(from, from+5*time.Second, Selector{})
	}
}

// BenchmarkTenMinuteRun records a whole 10-minute run of the modelled load
// (2,400 intervals × 20 series) at 200, 2,000 and 10,000 results per
// second, and reports the heap the recorder retains (MB-retained) and the
// cost per result.
func BenchmarkTenMinuteRun(b *testing.B) {
	for _, rate := range []int{benchRate / 10, benchRate, 5 * benchRate} {
		b.Run(fmt.Sprintf("rate=%d", rate), func(b *testing.B) {
			benchmarkRun(b, benchResultsAt(10*60*rate, rate))
		})
	}
}

func benchmarkRun(b *testing.B, results []load.Result) {
	b.ReportAllocs()
	b.ResetTimer()
	var retained uint64
	for range b.N {
		b.StopTimer()
		before := heapInUse()
		b.StartTimer()
		r := NewRecorder(Config{})
		for i := range results {
			r.Record(&results[i])
		}
		b.StopTimer()
		retained = heapInUse() - before
		runtime.KeepAlive(r)
		b.StartTimer()
	}
	b.ReportMetric(float64(retained)/1e6, "MB-retained")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(results)), "ns/result")
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkIntervals is the per-interval summary of a 10-minute run, what a
// report plots.
func BenchmarkIntervals(b *testing.B) {
	r := NewRecorder(Config{})
	results := benchResults(10 * 60 * benchRate)
	for i := range results {
		r.Record(&results[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		_ = r.Intervals()
	}
}
