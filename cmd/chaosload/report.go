package main

import (
	"context"
	"fmt"

	"github.com/chaosload/chaosload/runner"
	"github.com/spf13/cobra"
)

func (a *app) reportCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report RESULT.json...",
		Short: "Re-render saved results as text, Markdown, JUnit or HTML",
		Long: `report reads results saved with run --json and renders them again: the
summary on stdout, and the files asked for (--json, --junit, --markdown,
--html, --out DIR), exactly as run would have written them: with --out, the
readiness report over every result, judged against --criteria FILE (or the
bundled plan) without running anything again. --baseline OLD.json (or DIR)
compares each result with an older one, as run does.

The exit code is the saved verdict's (0 passed, 1 failed, 3 aborted,
4 inconclusive or infrastructure error, 130 interrupted), made worse by a regression against
--baseline (1) or a report that could not be written (4); 2 when a result
file cannot be read or is of a newer schema.`,
		Args: args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, files []string) error {
			outs, err := newOutputs(a.v, a.stdout, len(files))
			if err != nil {
				return usageError{err}
			}
			results := make([]*runner.Outcome, 0, len(files))
			for _, f := range files { // read all first: nothing is written for a bad file
				out, err := readResult(f)
				if err != nil {
					return usageError{err}
				}
				results = append(results, out)
			}
			a.code = exitOK
			for _, out := range results {
				a.code = worse(a.code, a.reportOne(out, outs))
			}
			readinessLine(a, outs)
			return nil
		},
	}
	outputFlags(cmd)
	return cmd
}

// reportOne renders one saved result and returns its exit code.
func (a *app) reportOne(out *runner.Outcome, outs *outputs) int {
	outs.compare(out)
	code := exitCode(out, nil, context.Background())
	if errs := outs.write(out); len(errs) > 0 {
		for _, err := range errs {
			fmt.Fprintf(a.stderr, "chaosload: %v\n", err)
		}
		code = worse(code, exitInfra)
	}
	return code
}
