package main

import (
	"fmt"
	"os"

	"github.com/chaosload/chaosload/config"
	"github.com/spf13/cobra"
)

func (a *app) validateCommand() *cobra.Command {
	var sets []string
	cmd := &cobra.Command{
		Use:   "validate FILE...",
		Short: "Parse and check experiment files without running anything",
		Long: `validate reads each experiment file strictly and reports every problem at once as
file:line:col: what is wrong; what would be valid. Exit code 2 when any file is invalid.`,
		Args: args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, files []string) error {
			bad := 0
			for _, f := range files {
				if _, err := a.load(f, sets); err != nil {
					fmt.Fprintln(a.stderr, err)
					bad++
					continue
				}
				fmt.Fprintf(a.stdout, "%s: ok\n", f)
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
