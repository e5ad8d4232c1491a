package cluster

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/metrics"
	"github.com/chaosload/chaosload/slo"
)

// profile is what the operation of arrival i does: its latency and error
// class, a pure function of the arrival's index, so a result does not
// depend on the machine or on which worker made it.
type profile func(i int64) (time.Duration, string)

// mixed is a spread of latencies with a few errors of two classes.
func mixed(i int64) (time.Duration, string) {
	lat := time.Duration(1+(i*7919)%97) * time.Millisecond
	switch {
	case i%29 == 0:
		return lat, load.ClassHTTP5xx
	case i%31 == 0:
		return 3 * lat, load.ClassTimeout
	}
	return lat, ""
}

// indexDriver takes the profile's latency (virtual time) for arrival
// vu.Iteration and fails with its class.
func indexDriver(p profile) load.Driver {
	return driverFunc(func(ctx context.Context, vu *load.VU, _ *load.Step, res *load.Result) {
		lat, class := p(vu.Iteration)
		res.Start = vu.Clock.Now()
		t := time.NewTimer(lat)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		res.End = vu.Clock.Now()
		res.Class = class
		if class != "" {
			res.Err = fmt.Errorf("arrival %d: %s", vu.Iteration, class)
		}
	})
}

type driverFunc func(ctx context.Context, vu *load.VU, step *load.Step, res *load.Result)

func (f driverFunc) Do(ctx context.Context, vu *load.VU, step *load.Step, res *load.Result) {
	f(ctx, vu, step, res)
}

// runSegment runs sc as segment seg under virtual time into a new
// recorder of 100 ms intervals, and into an Outbox of worker seg.Index cut
// every 300 ms while the load runs (and once at its end), as a worker
// streams its frames.
func runSegment(t *testing.T, sc load.Scenario, p profile, seg load.Segment) (*metrics.Recorder, []Frame) {
	t.Helper()
	cfg := metrics.Config{Interval: 100 * time.Millisecond}
	rec, box := metrics.NewRecorder(cfg), NewOutbox(seg.Index, 1, cfg)
	var frames []Frame
	synctest.Test(t, func(t *testing.T) {
		l, err := load.New([]load.Scenario{sc}, load.Config{
			Drivers: map[load.Protocol]load.Driver{load.HTTP: indexDriver(p)}, Sink: tee{rec, box}, Seed: 11,
			Clock: load.Clock{Epoch: time.Now()}, Logger: zerolog.Nop(), Segment: seg,
		})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		var cutter sync.WaitGroup
		cutter.Go(func() {
			tick := time.NewTicker(300 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-done:
					return
				case <-tick.C:
					frames = append(frames, cut(t, box)...)
				}
			}
		})
		err = l.Run(context.Background())
		close(done)
		cutter.Wait()
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, cut(t, box)...)
	})
	return rec, frames
}

// cut cuts box, reporting an error.
func cut(t *testing.T, box *Outbox) []Frame {
	fs, err := box.Cut()
	if err != nil {
		t.Error(err)
	}
	return fs
}

// tee records every result into each sink.
type tee []load.Sink

func (s tee) Record(res *load.Result) {
	for _, x := range s {
		x.Record(res)
	}
}

// scenarios are the schedules the exactness test splits.
func scenarios() map[string]load.Scenario {
	get := []load.Step{{Name: "get", Target: "api", HTTP: &load.HTTPRequest{URL: "http://127.0.0.1:1/"}}}
	ramp := []load.Stage{{Duration: time.Second, Target: 100}, {Duration: time.Second, Target: 40}}
	return map[string]load.Scenario{
		"constant": {Name: "s", Executor: load.ConstantArrivalRate, Rate: 80, Duration: 2 * time.Second,
			PreAllocatedVUs: 50, Steps: get},
		"ramping": {Name: "s", Executor: load.RampingArrivalRate, StartRate: 10, Stages: ramp,
			PreAllocatedVUs: 50, Steps: get},
		"poisson": {Name: "s", Executor: load.ConstantArrivalRate, Rate: 80, Duration: 2 * time.Second,
			Arrival: load.Poisson, PreAllocatedVUs: 50, Steps: get},
	}
}

// TestWorkersEqualOneProcess: N ∈ {1, 2, 3, 7} workers, each running its
// segment into its own recorder, merged (Recorder.Merge, and frames through
// JSON lines into a Collector) equal the recorder of one process, per
// interval and series, bucket for bucket; and the verdicts are identical.
func TestWorkersEqualOneProcess(t *testing.T) {
	for name, sc := range scenarios() {
		t.Run(name, func(t *testing.T) {
			whole, _ := runSegment(t, sc, mixed, load.Segment{})
			want := judge(t, whole)
			for _, n := range []int{1, 2, 3, 7} {
				parts := make([]*metrics.Recorder, n)
				var frames []Frame
				for i := range parts {
					var fs []Frame
					parts[i], fs = runSegment(t, sc, mixed, load.Segment{Index: i, Count: n})
					frames = append(frames, fs...)
				}
				merged := mergeAll(t, parts)
				framed := mergeFrames(t, frames)
				for what, got := range map[string]*metrics.Recorder{"Merge": merged, "frames": framed} {
					cells := assertSameCells(t, got, whole)
					v := judge(t, got)
					if fmt.Sprint(v) != fmt.Sprint(want) {
						t.Errorf("%d workers (%s): verdict %s, want %s", n, what, v, want)
					}
					if n == 7 && what == "frames" {
						t.Logf("%d workers: %d (interval, series) cells equal one process's; verdict %s", n, cells, v)
					}
				}
			}
		})
	}
}

// mergeAll merges parts with Recorder.Merge.
func mergeAll(t *testing.T, parts []*metrics.Recorder) *metrics.Recorder {
	t.Helper()
	out := metrics.NewRecorder(metrics.Config{Interval: parts[0].Interval()})
	for _, p := range parts {
		if err := out.Merge(p); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// mergeFrames writes frames as JSON lines (every frame twice, as a
// retried send would), reads them back and collects them.
func mergeFrames(t *testing.T, frames []Frame) *metrics.Recorder {
	t.Helper()
	c := NewCollector(metrics.NewRecorder(metrics.Config{Interval: 100 * time.Millisecond}))
	var buf bytes.Buffer
	if err := WriteFrames(&buf, append(frames, frames...)); err != nil {
		t.Fatal(err)
	}
	back, err := ReadFrames(&buf, "frames")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range back {
		if _, err := c.Add(f); err != nil {
			t.Fatal(err)
		}
	}
	return c.Recorder()
}

// assertSameCells compares got with want in every interval and series:
// counts, classes and every histogram bucket, as measured and less the
// generator's own lateness. It returns how many cells it compared.
func assertSameCells(t *testing.T, got, want *metrics.Recorder) int {
	t.Helper()
	if got.Last() != want.Last() {
		t.Fatalf("last interval %d, want %d", got.Last(), want.Last())
	}
	if len(got.SeriesKeys()) != len(want.SeriesKeys()) {
		t.Fatalf("%d series, want %d", len(got.SeriesKeys()), len(want.SeriesKeys()))
	}
	iv, n := want.Interval(), 0
	a, b, an, bn := newAggregate(), newAggregate(), newAggregate(), newAggregate() // reused: 184 KB each
	for k := 0; k <= want.Last(); k++ {
		from, to := time.Duration(k)*iv, time.Duration(k+1)*iv
		for _, sel := range want.SeriesKeys() {
			got.WindowInto(&a, from, to, sel)
			want.WindowInto(&b, from, to, sel)
			got.WithoutLateness().WindowInto(&an, from, to, sel)
			want.WithoutLateness().WindowInto(&bn, from, to, sel)
			if !sameAggregate(a, b) || !sameAggregate(an, bn) {
				t.Fatalf("interval %d, series %+v: got %d ops p99 %d, want %d ops p99 %d", k, sel,
					a.Ops, a.Latency.ValueAtQuantile(99), b.Ops, b.Latency.ValueAtQuantile(99))
			}
			n++
		}
	}
	return n
}

// newAggregate returns an aggregate with every histogram.
func newAggregate() metrics.Aggregate {
	return metrics.Aggregate{Latency: metrics.NewHistogram(), ServiceTime: metrics.NewHistogram(),
		DispatchLag: metrics.NewHistogram()}
}

// sameAggregate compares counts, classes and histograms bucket for bucket.
func sameAggregate(a, b metrics.Aggregate) bool {
	if a.Ops != b.Ops || a.Errors != b.Errors || a.Conns != b.Conns || fmt.Sprint(a.ByClass) != fmt.Sprint(b.ByClass) {
		return false
	}
	return a.Latency.Equals(b.Latency) && a.ServiceTime.Equals(b.ServiceTime) && a.DispatchLag.Equals(b.DispatchLag)
}

// threshold parses "key: expression".
func threshold(tb testing.TB, key, expr string) config.Threshold {
	tb.Helper()
	ref, err := config.ParseMetricRef(key)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := config.ParseCondition(ref.Kind, expr)
	if err != nil {
		tb.Fatal(err)
	}
	return config.Threshold{Metric: ref, Cond: c, Key: key}
}

// judge judges rec's load against a steady state whose checks a merge
// that lost or doubled anything would change.
func judge(t *testing.T, rec *metrics.Recorder) verdict {
	t.Helper()
	return judgeOnly(t, rec, config.Thresholds{
		threshold(t, "latency", "p(99) < 95ms"), threshold(t, "latency", "p(50) < 50ms"),
		threshold(t, "errors", "rate < 5%"), threshold(t, "errors{class:timeout}", "rate < 5%"),
	})
}

// judgeOnly judges rec's load, without faults, against ths.
func judgeOnly(t *testing.T, rec *metrics.Recorder, ths config.Thresholds) verdict {
	t.Helper()
	v := slo.Judge(rec, slo.Spec{Thresholds: ths, Timeline: slo.Timeline{LoadEnd: rec.End()}, Net: rec.WithoutLateness()})
	out := verdict{Passed: v.Passed}
	for _, c := range v.Checks {
		out.Checks = append(out.Checks, fmt.Sprintf("%s %s: %s (passed %t)", c.Name, c.Expression, c.Observed, c.Passed))
	}
	return out
}

// verdict is what a test compares of a slo.Verdict: pass or fail, and
// each check as a report shows it.
type verdict struct {
	Passed bool
	Checks []string
}

// String renders the verdict with its checks.
func (v verdict) String() string { return fmt.Sprintf("passed %t %q", v.Passed, v.Checks) }
