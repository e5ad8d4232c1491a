package metrics

import (
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/chaosload/chaosload/load"
)

// TestWithoutLateness: the view takes each operation's own lateness off
// its latency and dispatch lag, and nothing else: service time and counts
// are the recorder's; a result whose Dispatched was never set has no
// lateness.
func TestWithoutLateness(t *testing.T) {
	t.Parallel()
	r := NewRecorder(Config{})
	for _, res := range []*load.Result{
		// handed on 50ms late, sent 2ms later, answered 8ms after that
		{Intended: 0, Dispatched: 50 * ms, Start: 52 * ms, End: 60 * ms},
		// no Dispatched: no lateness
		{Intended: 300 * ms, Start: 303 * ms, End: 310 * ms},
		// an error, handed on 5ms late
		{Intended: 600 * ms, Dispatched: 605 * ms, Start: 605 * ms, End: 606 * ms, Class: load.ClassHTTP5xx},
	} {
		r.Record(res)
	}
	for _, tt := range []struct {
		name                  string
		from                  time.Duration // the window [from, from+250ms)
		latency, lag, service time.Duration // as measured
		netLatency, netLag    time.Duration // less lateness
	}{
		{"late", 0, 60 * ms, 52 * ms, 8 * ms, 10 * ms, 2 * ms},
		{"unset", 300 * ms, 10 * ms, 3 * ms, 7 * ms, 10 * ms, 3 * ms},
	} {
		from := tt.from / MaxInterval * MaxInterval
		got := r.Window(from, from+MaxInterval, Selector{})
		net := r.WithoutLateness().Window(from, from+MaxInterval, Selector{})
		for _, c := range []struct {
			what string
			h    *hdrhistogram.Histogram
			want time.Duration
		}{
			{"latency", got.Latency, tt.latency},
			{"dispatch lag", got.DispatchLag, tt.lag},
			{"latency less lateness", net.Latency, tt.netLatency},
			{"dispatch lag less lateness", net.DispatchLag, tt.netLag},
			{"service time less lateness", net.ServiceTime, tt.service},
		} {
			if c.h.TotalCount() != 1 || !c.h.ValuesAreEquivalent(c.h.Max(), micros(c.want)) {
				t.Errorf("%s: %s %v (%d values), want %v", tt.name, c.what, Micros(c.h.Max()), c.h.TotalCount(), c.want)
			}
		}
	}
	all, net := r.Window(0, time.Second, Selector{}), r.WithoutLateness().Window(0, time.Second, Selector{})
	if all.Ops != 3 || net.Ops != 3 || net.Errors != 1 || net.ByClass[load.ClassHTTP5xx] != 1 {
		t.Errorf("counts %+v / %+v, want 3 ops and one 5xx both ways", all, net)
	}
	if r.WithoutLateness().Interval() != r.Interval() {
		t.Errorf("interval differs")
	}
}
