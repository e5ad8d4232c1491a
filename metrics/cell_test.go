package metrics

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/chaosload/chaosload/load"
)

// TestCellPacking checks that a cell answers the same whether it holds raw
// samples or histograms, and across merges of both forms, as measured and
// less the generator's own lateness.
func TestCellPacking(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a, b int // results in one interval of one series, in two recorders
	}{
		{"one raw", 1, 0},                          // a single raw sample
		{"just raw", rawLimit - 1, 0},              // the most a raw cell holds
		{"just packed", rawLimit, 0},               // the first packed cell
		{"busy", 3 * rawLimit, 0},                  // well past the limit
		{"raw into raw, packs", rawLimit - 1, 2},   // a merge that crosses the limit
		{"raw into packed", 2 * rawLimit, 10},      // raw samples recorded into histograms
		{"packed into raw", 10, 2 * rawLimit},      // the receiver packs first
		{"packed into packed", rawLimit, rawLimit}, // histograms merge
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(uint64(tt.a), uint64(tt.b)))
			want := Aggregate{Latency: NewHistogram(), ServiceTime: NewHistogram(), DispatchLag: NewHistogram(), Span: MaxInterval}
			net := Aggregate{Latency: NewHistogram(), ServiceTime: NewHistogram(), DispatchLag: NewHistogram(), Span: MaxInterval}
			whole, a, b := NewRecorder(Config{}), NewRecorder(Config{}), NewRecorder(Config{})
			for i := range tt.a + tt.b {
				res := result(time.Duration(rng.IntN(250))*ms, time.Duration(rng.ExpFloat64()*float64(50*ms)), "")
				res.Dispatched = res.Intended + time.Duration(rng.Int64N(int64(res.DispatchLag())+1))
				late := micros(res.OwnLateness())
				lag := micros(res.Latency()) - micros(res.ServiceTime()) // dispatch lag as a sample derives it
				whole.Record(res)
				if i < tt.a {
					a.Record(res)
				} else {
					b.Record(res)
				}
				want.Ops++
				_ = want.Latency.RecordValue(micros(res.Latency()))
				_ = want.ServiceTime.RecordValue(micros(res.ServiceTime()))
				_ = want.DispatchLag.RecordValue(lag)
				net.Ops++
				_ = net.Latency.RecordValue(micros(res.Latency()) - late)
				_ = net.ServiceTime.RecordValue(micros(res.ServiceTime()))
				_ = net.DispatchLag.RecordValue(lag - late)
			}
			if err := a.Merge(b); err != nil {
				t.Fatal(err)
			}
			assertAggregateEqual(t, whole.Window(0, MaxInterval, Selector{}), want)
			assertAggregateEqual(t, a.Window(0, MaxInterval, Selector{}), want)
			assertAggregateEqual(t, whole.WithoutLateness().Window(0, MaxInterval, Selector{}), net)
			assertAggregateEqual(t, a.WithoutLateness().Window(0, MaxInterval, Selector{}), net)
			iv := a.Intervals()[0]
			if iv.Ops != int64(tt.a+tt.b) || iv.P99 != Micros(want.Latency.ValueAtQuantile(99)) {
				t.Errorf("interval %+v, want %d ops, p99 %v", iv, tt.a+tt.b, Micros(want.Latency.ValueAtQuantile(99)))
			}
		})
	}
}

// TestRecordClamps: values out of the histogram's range are clamped, never
// dropped.
func TestRecordClamps(t *testing.T) {
	t.Parallel()
	r := NewRecorder(Config{})
	r.Record(&load.Result{Intended: 0, Start: 2 * time.Hour, End: 3 * time.Hour}) // a 3h latency
	r.Record(&load.Result{Intended: ms, Start: 0, End: 0})                        // End before Intended
	a := r.Window(0, time.Second, Selector{})
	if a.Latency.TotalCount() != 2 || a.Latency.Max() < a.Latency.HighestTrackableValue() || a.Latency.Min() != 0 {
		t.Errorf("latency count %d, min %d, max %d", a.Latency.TotalCount(), a.Latency.Min(), a.Latency.Max())
	}
}
