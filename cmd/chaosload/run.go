package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/chaosload/chaosload/demo"
	"github.com/chaosload/chaosload/report"
	"github.com/chaosload/chaosload/runner"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
)

func (a *app) runCommand() *cobra.Command {
	var sets []string
	cmd := &cobra.Command{
		Use:   "run FILE...",
		Short: "Run experiments; the exit code is the verdict",
		Long: `run executes each experiment: starts its proxies (and the bundled stack when the
file has a stack: section), applies the load and the fault timeline, judges the
phases and the recovery, checks acknowledged writes, and prints a summary.

Exit codes: 0 passed, 1 an expectation failed, 2 invalid file or flags,
3 aborted, 4 infrastructure error, 130 interrupted (faults reverted, partial
results written).`,
		Args: args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, files []string) error {
			if len(files) > 1 && a.v.GetString("json") != "" {
				return usageError{errors.New("--json takes one experiment; run the files one at a time")}
			}
			a.code = exitOK
			for _, f := range files {
				a.code = worse(a.code, a.runOne(cmd.Context(), f, sets))
				if a.code == exitInterrupted {
					break
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&sets, "set", nil, "override a field: --set path=value (e.g. stack.mode=naive); repeatable")
	f.String("json", "", "write the result as JSON to this file")
	f.Bool("quiet", false, "no progress lines")
	return cmd
}

// runOne runs one experiment file and returns its exit code.
func (a *app) runOne(ctx context.Context, file string, sets []string) int {
	exp, err := a.load(file, sets)
	if err != nil {
		fmt.Fprintln(a.stderr, err)
		return exitInvalid
	}
	p := newProgress(a.stderr, a.v.GetBool("quiet"))
	out, err := runner.Run(ctx, exp, runner.Options{
		Logger:     a.log,
		Stack:      demoStack(a.log),
		OnEvent:    p.event,
		OnProgress: p.status,
	})
	p.done()
	if out != nil {
		a.write(out)
	}
	return exitCode(out, err, ctx)
}

// demoStack adapts demo's launcher to the runner's stack hook.
func demoStack(log zerolog.Logger) runner.StackFactory {
	newStack := demo.StackFactory(log)
	return func(name string) (runner.Stack, error) {
		l, err := newStack(name)
		if err != nil {
			return nil, err
		}
		return l, nil
	}
}

// write prints the summary and writes the requested files.
func (a *app) write(out *runner.Outcome) {
	if err := report.Text(a.stdout, out); err != nil {
		a.log.Error().Err(err).Msg("write summary")
	}
	if path := a.v.GetString("json"); path != "" {
		if err := report.WriteFile(path, out, report.JSON); err != nil {
			fmt.Fprintf(a.stderr, "chaosload: %v\n", err)
		}
	}
}

// exitCode maps a run's outcome to the exit-code table.
func exitCode(out *runner.Outcome, err error, ctx context.Context) int {
	var ie *runner.InfraError
	switch {
	case ctx.Err() != nil:
		return exitInterrupted
	case errors.As(err, &ie), err != nil:
		return exitInfra
	case out.Invalid != "" && out.Verdict != runner.Interrupted:
		return exitInfra // the load generator was the bottleneck: nothing was learnt of the target
	}
	switch out.Verdict {
	case runner.Passed:
		return exitOK
	case runner.Failed:
		return exitFailed
	case runner.Aborted:
		return exitAborted
	case runner.Interrupted:
		return exitInterrupted
	}
	return exitInfra
}

// worse combines the exit codes of several experiments: the most severe
// wins (interrupted, infrastructure, aborted, failed, ok).
func worse(a, b int) int {
	rank := map[int]int{exitOK: 0, exitFailed: 1, exitAborted: 2, exitInvalid: 3, exitInfra: 4, exitInterrupted: 5}
	if rank[b] > rank[a] {
		return b
	}
	return a
}
