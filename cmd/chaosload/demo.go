package main

import (
	"errors"
	"flag"
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
			fmt.Fprintf(a.stdout, "demo stack (%s) is up; Ctrl-C stops it\n"+
				"  api       http://%s  (pid %d, log %s)\n"+
				"  postgres  %s  (postgres://postgres@%s/shop, pid %d)\n"+
				"  redis     %s%s\n",
				mode, addrs.API, st.Service().PID(), st.Service().LogPath(),
				addrs.Postgres, addrs.Postgres, st.Postgres().PID(), addrs.Redis, redisPID(st.Redis()))
			select {
			case <-cmd.Context().Done():
				return nil
			case <-st.Done():
				return fmt.Errorf("demo service stopped: %w", st.Close())
			}
		},
	}
	cmd.Flags().String("mode", "graceful", "demo service mode: graceful or naive")
	cmd.AddCommand(a.demoServiceCommand())
	return cmd
}

func redisPID(r *demo.Redis) string {
	if r.InProcess() {
		return "  (in process)"
	}
	return fmt.Sprintf("  (pid %d)", r.PID())
}

// demoServiceCommand is the demo service alone, as the stack runs it (the
// stack starts this binary with these flags): hidden, since `demo` starts
// it with its dependencies.
func (a *app) demoServiceCommand() *cobra.Command {
	return &cobra.Command{
		Use:                "service --postgres HOST:PORT --redis HOST:PORT [--mode graceful|naive] [--ack-before-commit]",
		Short:              "Serve the demo shop service alone against the given PostgreSQL and Redis",
		Hidden:             true,
		DisableFlagParsing: true, // demo.ServeMain parses its own flags: one definition for the stack and for people
		RunE: func(cmd *cobra.Command, args []string) error {
			err := demo.ServeMain(cmd.Context(), args, a.stdout, a.stderr)
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			return err
		},
	}
}
