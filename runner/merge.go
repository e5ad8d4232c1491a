package runner

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/chaosload/chaosload/cluster"
	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/metrics"
	"github.com/chaosload/chaosload/slo"
)

// MergeResult is what merging workers' frame files gives (`chaosload
// merge`): the merged recorder's totals and intervals, and the thresholds'
// checks when an experiment was given.
type MergeResult struct {
	Frames    int                `json:"frames"`
	Workers   map[int]int        `json:"workers"` // worker → attempt merged
	Ops       int64              `json:"ops"`
	Errors    int64              `json:"errors"`
	ByClass   map[string]int64   `json:"by_class,omitempty"`
	P50MS     float64            `json:"p50_ms"`
	P95MS     float64            `json:"p95_ms"`
	P99MS     float64            `json:"p99_ms"`
	Intervals []metrics.Interval `json:"intervals"`
	Checks    []string           `json:"checks,omitempty"`
	Passed    *bool              `json:"passed,omitempty"`
}

// MergeFrames reads the JSON-lines frame files workers wrote and merges
// them exactly (each frame once, each worker's first attempt only). With
// exp, its thresholds (the steady state) are judged on the merged results
// over the whole load after its warm-up; no fault phase or recovery is
// judged (the frames carry no fault timeline).
func MergeFrames(files []string, exp *config.Experiment) (*MergeResult, error) {
	var col *cluster.Collector
	res := &MergeResult{}
	for _, name := range files {
		fh, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		frames, err := cluster.ReadFrames(fh, name)
		fh.Close()
		if err != nil {
			return nil, err
		}
		for _, f := range frames {
			if col == nil {
				col = cluster.NewCollector(metrics.NewRecorder(metrics.Config{Interval: f.Length}))
			}
			if _, err := col.Add(f); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			res.Frames++
		}
	}
	if col == nil {
		return nil, errors.New("no frames in the files given")
	}
	res.Workers = col.Workers()
	rec := col.Recorder()
	all := rec.Window(0, rec.End(), metrics.Selector{})
	res.Ops, res.Errors, res.ByClass = all.Ops, all.Errors, all.ByClass
	res.P50MS, res.P95MS, res.P99MS = quantileMS(all, 50), quantileMS(all, 95), quantileMS(all, 99)
	res.Intervals = rec.Intervals()
	if exp != nil {
		v := slo.Judge(rec, slo.Spec{Thresholds: exp.Thresholds,
			Timeline: slo.Timeline{Warmup: exp.WarmupOrDefault(), LoadEnd: rec.End()}, Net: rec.WithoutLateness()})
		for _, c := range v.Checks {
			res.Checks = append(res.Checks, fmt.Sprintf("%s %s %s: %s (%s)", c.Phase, c.Name, c.Expression, c.Observed, passFailWord(c)))
		}
		res.Passed = &v.Passed
	}
	return res, nil
}

// quantileMS is percentile p of a's latency in milliseconds.
func quantileMS(a metrics.Aggregate, p float64) float64 {
	return float64(metrics.Micros(a.Latency.ValueAtQuantile(p))) / float64(time.Millisecond)
}

// passFailWord says how a check went.
func passFailWord(c slo.Check) string {
	switch {
	case c.Skipped:
		return "skipped"
	case c.Passed:
		return "passed"
	}
	return "failed"
}
