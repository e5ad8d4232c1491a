package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/chaosload/chaosload/config"
	"github.com/spf13/cobra"
)

func (a *app) validateCommand() *cobra.Command {
	var sets []string
	cmd := &cobra.Command{
		Use:   "validate FILE...",
		Short: "Parse and check experiment files without running anything",
		Long: `validate reads each experiment file strictly and reports every problem at once as
file:line:col: what is wrong; what would be valid. Exit code 2 when any file is invalid.
For a valid file it lists the fault episodes the run will be judged in, and says
why faults were merged into one (they overlap, or follow each other closer than
the recovery observation within+hold+window).`,
		Args: args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, files []string) error {
			bad := 0
			for _, f := range files {
				exp, err := a.load(f, sets)
				if err != nil {
					fmt.Fprintln(a.stderr, err)
					bad++
					continue
				}
				fmt.Fprintf(a.stdout, "%s: ok\n", f)
				for _, l := range episodeLines(exp) {
					fmt.Fprintf(a.stdout, "  %s\n", l)
				}
			}
			if bad > 0 {
				a.code = exitInvalid
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&sets, "set", nil, "override a field: --set path=value (e.g. stack.mode=naive)")
	return cmd
}

// load reads one experiment with the --set overrides and the environment.
func (a *app) load(file string, sets []string) (*config.Experiment, error) {
	return config.Load(file, config.Options{Sets: sets, LookupEnv: os.LookupEnv})
}

// episodeLines describes the fault episodes exp will be judged in: one line
// per episode, and under it why its faults form one.
func episodeLines(exp *config.Experiment) []string {
	if exp.Stress != nil {
		return nil
	}
	var out []string
	for k, ep := range exp.Episodes() {
		names := make([]string, len(ep.Members))
		for j, i := range ep.Members {
			names[j] = exp.Faults[i].Name
		}
		r := ep.Recovery
		out = append(out, fmt.Sprintf("episode %d: %s (%s–%s), recovery within %s (hold %s, window %s)",
			k+1, strings.Join(names, ", "), fmtSecs(ep.Start), fmtSecs(ep.End), fmtSecs(r.Within), fmtSecs(r.Hold), fmtSecs(r.Window)))
		for _, j := range ep.Joins {
			out = append(out, "  "+j.String())
		}
	}
	return out
}
