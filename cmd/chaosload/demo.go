package main

import (
	"fmt"

	"github.com/chaosload/chaosload/demo"
	"github.com/spf13/cobra"
)

func (a *app) demoCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Start the bundled demo stack and print its addresses",
		Long: `demo starts the bundled demo stack on free loopback ports: a throwaway PostgreSQL
cluster, a Redis server and the demo shop service wired to them, prints their
addresses and keeps them up until interrupted; everything is removed on exit.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			mode := a.v.GetString("mode")
			if mode != "graceful" && mode != "naive" {
				return usageError{fmt.Errorf("--mode %q: want graceful or naive", mode)}
			}
			st, err := demo.StartStack(cmd.Context(), demo.StackConfig{Mode: demo.Mode(mode), Logger: a.log})
			if err != nil {
				return err
			}
			defer st.Close()
			addrs := st.Addrs()
			fmt.Fprintf(a.stdout, "demo stack (%s) is up; Ctrl-C stops it\n  api       http://%s\n  postgres  %s  (postgres://postgres@%s/shop)\n  redis     %s\n",
				mode, addrs.API, addrs.Postgres, addrs.Postgres, addrs.Redis)
			<-cmd.Context().Done()
			return nil
		},
	}
	cmd.Flags().String("mode", "graceful", "demo service mode: graceful or naive")
	return cmd
}
