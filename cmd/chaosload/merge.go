package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/chaosload/chaosload/cluster"
	"github.com/chaosload/chaosload/metrics"
	"github.com/chaosload/chaosload/slo"
)

// mergeResult is what `chaosload merge --json` writes: the merged
// recorder's totals and intervals, and the thresholds' checks when an
// experiment was given.
type mergeResult struct {
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

// mergeCommand is `chaosload merge FRAMES... [--experiment FILE] [--json OUT]`.
func (a *app) mergeCommand() *cobra.Command {
	var sets []string
	cmd := &cobra.Command{
		Use:   "merge FRAMES... [--experiment FILE] [--json OUT]",
		Short: "Merge the frame files of workers (worker --frames DIR) into one result",
		Long: `merge reads the JSON-lines frame files workers wrote with --frames DIR, merges
them exactly (each frame once, each worker's first attempt only) and prints the
totals; --json OUT writes them with every interval. With --experiment FILE the
file's thresholds (its steady state) are judged on the merged results over the
whole load after its warm-up, as one process would have measured them; faults
are not known to merge, so no fault phase or recovery is judged.

Exit codes: 0 merged (and every threshold held), 1 a threshold failed, 2 invalid
files or flags.`,
		Args: args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, files []string) error {
			res, err := a.merge(files, sets)
			if err != nil {
				return usageError{err}
			}
			a.code = exitOK
			if res.Passed != nil && !*res.Passed {
				a.code = exitFailed
			}
			return a.writeMerge(res)
		},
	}
	f := cmd.Flags()
	f.String("experiment", "", "judge this experiment's thresholds on the merged results")
	f.StringArrayVar(&sets, "set", nil, "override a field of --experiment; repeatable")
	f.String("json", "", "write the merged result as JSON to this file")
	return cmd
}

// merge reads and merges the frame files.
func (a *app) merge(files, sets []string) (*mergeResult, error) {
	var col *cluster.Collector
	res := &mergeResult{}
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
	res.P50MS, res.P95MS, res.P99MS = ms(all, 50), ms(all, 95), ms(all, 99)
	res.Intervals = rec.Intervals()
	if file := a.v.GetString("experiment"); file != "" {
		exp, err := a.load(file, sets)
		if err != nil {
			return nil, err
		}
		v := slo.Judge(rec, slo.Spec{Thresholds: exp.Thresholds,
			Timeline: slo.Timeline{Warmup: exp.WarmupOrDefault(), LoadEnd: rec.End()}, Net: rec.WithoutLateness()})
		for _, c := range v.Checks {
			res.Checks = append(res.Checks, fmt.Sprintf("%s %s %s: %s (%s)", c.Phase, c.Name, c.Expression, c.Observed, passFailWord(c)))
		}
		res.Passed = &v.Passed
	}
	return res, nil
}

// ms is percentile p of a's latency in milliseconds.
func ms(a metrics.Aggregate, p float64) float64 {
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

// writeMerge prints the merged totals and writes --json.
func (a *app) writeMerge(res *mergeResult) error {
	fmt.Fprintf(a.stdout, "merged %d frames of %d workers: %d operations, %d errors, latency p50 %.1fms p95 %.1fms p99 %.1fms\n",
		res.Frames, len(res.Workers), res.Ops, res.Errors, res.P50MS, res.P95MS, res.P99MS)
	for _, c := range res.Checks {
		fmt.Fprintln(a.stdout, "  "+c)
	}
	if out := a.v.GetString("json"); out != "" {
		data, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(out, append(data, '\n'), 0o644); err != nil {
			a.code = exitInfra
			return fmt.Errorf("write %s: %w", out, err)
		}
	}
	return nil
}
