package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/runner"
)

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

// merge reads and merges the frame files, judging --experiment's
// thresholds when given.
func (a *app) merge(files, sets []string) (*runner.MergeResult, error) {
	var exp *config.Experiment
	if file := a.v.GetString("experiment"); file != "" {
		var err error
		if exp, err = a.load(file, sets); err != nil {
			return nil, err
		}
	}
	return runner.MergeFrames(files, exp)
}

// writeMerge prints the merged totals and writes --json.
func (a *app) writeMerge(res *runner.MergeResult) error {
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
