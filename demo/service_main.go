package demo

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

// serviceChildEnv is set (to "1") in the environment of a process
// StartServiceProcess starts; RunServiceIfChild looks for it.
const serviceChildEnv = "CHAOSLOAD_DEMO_SERVICE_CHILD"

// RunServiceIfChild makes this process the demo service, and exits when it
// stops, if StartServiceProcess started it; otherwise it returns at once.
//
// StartServiceProcess re-executes the current executable (os.Executable)
// as `EXE demo service FLAGS` with a marker in its environment, so every
// program that starts the demo service — chaosload, and each test binary
// whose tests start the demo stack — calls this first thing in main or
// TestMain, before parsing its own flags. (The same pattern as
// moby's pkg/reexec.) SIGTERM or SIGINT stops the service gracefully.
func RunServiceIfChild() {
	if os.Getenv(serviceChildEnv) != "1" {
		return
	}
	args := os.Args[1:]
	if len(args) >= 2 && args[0] == "demo" && args[1] == "service" {
		args = args[2:]
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	err := ServeMain(ctx, args, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo service:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// ServeMain runs the demo service as a program: it parses args (the flags
// of `chaosload demo service`: --mode, --postgres, --redis and the
// ServiceConfig knobs), serves until ctx ends and returns nil after a clean
// shutdown. Once it listens it prints one line on stdout,
//
//	chaosload demo service listening on http://127.0.0.1:PORT (mode graceful, pid N)
//
// which StartServiceProcess waits for; its log goes to stderr.
func ServeMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseServiceArgs(args, stderr)
	if err != nil {
		return err
	}
	svc, err := NewService(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "chaosload demo service listening on http://%s (mode %s, pid %d)\n", svc.Addr(), svc.Mode(), os.Getpid())
	return svc.Run(ctx)
}

// serviceArgs are the flags that give a child cfg (fields left zero are
// left out: the child applies the same defaults). The child logs at
// cfg.Logger's level, at least info, into its log file.
func serviceArgs(cfg ServiceConfig) []string {
	args := []string{"--mode", string(cfg.Mode), "--postgres", cfg.Postgres, "--redis", cfg.Redis}
	add := func(name string, set bool, value string) {
		if set {
			args = append(args, "--"+name+"="+value)
		}
	}
	add("listen", cfg.Listen != "", cfg.Listen)
	add("pool-size", cfg.PoolSize != 0, strconv.Itoa(cfg.PoolSize))
	add("cache-ttl", cfg.CacheTTL != 0, cfg.CacheTTL.String())
	add("stale-ttl", cfg.StaleTTL != 0, cfg.StaleTTL.String())
	add("shutdown-timeout", cfg.ShutdownTimeout != 0, cfg.ShutdownTimeout.String())
	add("ack-before-commit", cfg.AckBeforeCommit, "true")
	add("lose-every", cfg.LoseEvery != 0, strconv.Itoa(cfg.LoseEvery))
	add("log-level", true, min(cfg.Logger.GetLevel(), zerolog.InfoLevel).String())
	return args
}

// parseServiceArgs reads serviceArgs' flags; its Logger writes to stderr.
func parseServiceArgs(args []string, stderr io.Writer) (ServiceConfig, error) {
	var cfg ServiceConfig
	var mode, level string
	fs := flag.NewFlagSet("chaosload demo service", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&mode, "mode", string(ModeGraceful), "graceful or naive")
	fs.StringVar(&cfg.Postgres, "postgres", "", "PostgreSQL host:port (required)")
	fs.StringVar(&cfg.Redis, "redis", "", "Redis host:port (required)")
	fs.StringVar(&cfg.Listen, "listen", "", "HTTP address (default 127.0.0.1:0, a free port)")
	fs.IntVar(&cfg.PoolSize, "pool-size", 0, "PostgreSQL pool size (default 8 graceful, pgxpool's naive)")
	fs.DurationVar(&cfg.CacheTTL, "cache-ttl", 0, "product cache freshness (default 5s)")
	fs.DurationVar(&cfg.StaleTTL, "stale-ttl", 0, "stale product copy kept for outages (default 10m)")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", 0, "time in-flight requests get at shutdown (default 5s)")
	fs.BoolVar(&cfg.AckBeforeCommit, "ack-before-commit", false, "lose every --lose-every-th acknowledged order")
	fs.IntVar(&cfg.LoseEvery, "lose-every", 0, "with --ack-before-commit (default 10)")
	fs.StringVar(&level, "log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	lvl, err := zerolog.ParseLevel(level)
	if err != nil {
		return cfg, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	cfg.Mode = Mode(mode)
	cfg.Logger = zerolog.New(zerolog.ConsoleWriter{Out: stderr, NoColor: true, TimeFormat: time.RFC3339Nano}).
		Level(lvl).With().Timestamp().Logger()
	return cfg, nil
}
