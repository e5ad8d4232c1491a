package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/chaosload/chaosload/runner"
	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// app holds what every command shares: output streams, settings, logger.
//
// Settings precedence, in one place: a command-line flag, then the
// environment (CHAOSLOAD_<FLAG> with dashes as underscores, e.g.
// CHAOSLOAD_LOG_LEVEL), then the settings file (--settings FILE or
// CHAOSLOAD_SETTINGS; YAML keys named like the flags), then the default.
type app struct {
	stdout, stderr io.Writer
	v              *viper.Viper
	log            zerolog.Logger
	code           int
	// runOptions, when set, adjusts the runner's options of every run (a
	// test hook: drivers of its own, a stalled generator).
	runOptions func(*runner.Options)
}

func newApp(stdout, stderr io.Writer) *app {
	return &app{stdout: stdout, stderr: &lockedWriter{w: stderr}, v: viper.New(), log: zerolog.Nop()}
}

// lockedWriter serialises writes: the logger and error messages write to
// stderr from several goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
	// before runs ahead of every write (progress clears its status line
	// on a terminal); nil does nothing.
	before func()
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.before != nil {
		l.before()
	}
	return l.w.Write(p)
}

// setBefore sets (or, with nil, removes) the hook run before every write.
func (l *lockedWriter) setBefore(fn func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.before = fn
}

// usageError marks a problem with flags or settings (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }

func (a *app) execute(ctx context.Context, args []string) int {
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return a.code
	}
	fmt.Fprintf(a.stderr, "chaosload: %v\n", err)
	var ue usageError
	if errors.As(err, &ue) || strings.HasPrefix(err.Error(), "unknown command") {
		return exitInvalid
	}
	return exitInfra
}

// args wraps a cobra argument rule so its errors are usage errors (exit 2).
func args(rule cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if err := rule(cmd, a); err != nil {
			return usageError{err}
		}
		return nil
	}
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "chaosload",
		Short: "Prove a service survives its dependencies failing under real load",
		Long: `chaosload runs experiments: a fault proxy between the service and its dependencies
injects faults while a load generator applies user load; the experiment file says
what graceful degradation means and how fast the service must recover.

Exit codes: 0 passed, 1 an expectation failed, 2 invalid file or flags,
3 aborted by the experiment's abort condition, 4 infrastructure error or
inconclusive (the load generator's own lateness decides a check),
5 incomplete (a distributed run lost a worker after the start), 130
interrupted.`,
		SilenceUsage:      true,
		SilenceErrors:     true,
		PersistentPreRunE: a.setup,
	}
	pf := root.PersistentFlags()
	pf.String("settings", "", "settings file (YAML; keys named like the flags)")
	pf.String("log-level", "info", "log level: debug, info, warn, error")
	pf.String("log-format", "console", "log format on stderr: console or json")
	pf.String("fast-path", "sockmap", "how the proxies carry connections with no fault: sockmap (inside the kernel where it is available, else copy) or copy (always in user space)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(a.runCommand(), a.validateCommand(), a.demoCommand(), a.versionCommand())
	root.AddCommand(a.reportCommand(), a.criteriaCommand())
	root.AddCommand(a.gamedayCommand(), a.workerCommand(), a.mergeCommand(), a.k8sCommand())
	return root
}

// setup layers the settings and builds the logger before any command runs.
func (a *app) setup(cmd *cobra.Command, _ []string) error {
	a.v.SetEnvPrefix("CHAOSLOAD")
	a.v.SetEnvKeyReplacer(strings.NewReplacer("-", "_"))
	a.v.AutomaticEnv()
	var bindErr error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if err := a.v.BindPFlag(f.Name, f); err != nil {
			bindErr = err
		}
	})
	if bindErr != nil {
		return usageError{bindErr}
	}
	if file := a.v.GetString("settings"); file != "" {
		a.v.SetConfigFile(file)
		if err := a.v.ReadInConfig(); err != nil {
			return usageError{fmt.Errorf("settings file %s: %w", file, err)}
		}
	}
	log, err := a.logger()
	if err != nil {
		return usageError{err}
	}
	if fp := a.v.GetString("fast-path"); fp != "sockmap" && fp != "copy" {
		return usageError{fmt.Errorf("--fast-path %q: want sockmap or copy", fp)}
	}
	a.log = log
	return nil
}

func (a *app) logger() (zerolog.Logger, error) {
	level, err := zerolog.ParseLevel(a.v.GetString("log-level"))
	if err != nil || level == zerolog.NoLevel {
		return zerolog.Nop(), fmt.Errorf("--log-level %q: want debug, info, warn or error", a.v.GetString("log-level"))
	}
	var w io.Writer
	switch f := a.v.GetString("log-format"); f {
	case "json":
		w = a.stderr
	case "console":
		w = zerolog.ConsoleWriter{Out: a.stderr, NoColor: !isTerminal(a.stderr), TimeFormat: "15:04:05"}
	default:
		return zerolog.Nop(), fmt.Errorf("--log-format %q: want console or json", f)
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger(), nil
}

func isTerminal(w io.Writer) bool {
	if l, ok := w.(*lockedWriter); ok {
		w = l.w
	}
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}
