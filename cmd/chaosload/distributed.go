package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/chaosload/chaosload/cluster"
	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/runner"
)

// experimentHash identifies an experiment for the registration of its
// workers: the file as given, the --set values and --quick. The coordinator
// and every worker must agree on all three.
func experimentHash(file string, sets []string, quick bool) (string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", file, err)
	}
	return cluster.Hash(data, []byte(strings.Join(sets, "\x00")), []byte(strconv.FormatBool(quick))), nil
}

// coordinate makes opts the coordinator of a distributed run of exp over
// n workers: it serves the coordinator's API on --listen and prints its
// URL for the workers. stop shuts the server down once the run is over.
func (a *app) coordinate(exp *config.Experiment, sets []string, quick bool, n int, opts *runner.Options) (stop func(), err error) {
	if exp.Stress != nil {
		return nil, errors.New("--workers: a stress experiment runs in one process")
	}
	hash, err := experimentHash(exp.File, sets, quick)
	if err != nil {
		return nil, err
	}
	token := a.v.GetString("token")
	if host, _, err := net.SplitHostPort(a.v.GetString("listen")); err == nil && token == "" && !isLoopback(host) {
		return nil, fmt.Errorf("--listen %s is reachable beyond this machine: give the workers' token with --token or CHAOSLOAD_TOKEN", a.v.GetString("listen"))
	}
	ln, err := net.Listen("tcp", a.v.GetString("listen"))
	if err != nil {
		return nil, fmt.Errorf("--listen: %w", err)
	}
	var mu sync.Mutex
	say := func(msg string) { // coordinator lines go to stdout, --quiet or not: the URL is needed
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(a.stdout, "coordinator: "+msg)
	}
	c := cluster.NewCoordinator(cluster.CoordinatorConfig{Workers: n, Hash: hash, Logger: a.log, OnEvent: say, Token: token},
		cluster.NewRecorderCollector())
	srv := &http.Server{Handler: c.Handler()}
	var wg sync.WaitGroup
	wg.Go(func() { _ = srv.Serve(ln) })
	say(fmt.Sprintf("waiting for %d workers at http://%s", n, ln.Addr()))
	opts.Workers = c
	return func() {
		_ = srv.Close()
		wg.Wait()
	}, nil
}

// workerCommand is `chaosload worker FILE --coordinator URL [--index i]`.
func (a *app) workerCommand() *cobra.Command {
	var sets []string
	cmd := &cobra.Command{
		Use:   "worker FILE --coordinator URL [--index I]",
		Short: "Offer one segment of a distributed run's load (see run --workers)",
		Long: `worker registers with the coordinator (chaosload run FILE --workers N --listen ADDR)
and offers its segment of the experiment's load: arrival k of every arrival-rate
schedule on worker k mod N, VU v of every closed-model population on worker v mod N.
It streams its measurements to the coordinator every 250 ms; the coordinator
judges. FILE, --set and --quick must be the coordinator's (their hash is checked).
The index comes from --index, else JOB_COMPLETION_INDEX (a Kubernetes Indexed Job).

Exit codes: 0 its segment was offered and delivered, 2 invalid file or flags, or
refused by the coordinator (another experiment, an index out of range, a
registration after the start), 4 the coordinator was not reached before the
start, 5 the coordinator was lost after the start, 130 interrupted.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			a.code = a.runWorker(cmd.Context(), args[0], sets)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&sets, "set", nil, "override a field, as given to the coordinator; repeatable")
	f.Bool("quick", false, "as given to the coordinator")
	f.String("coordinator", "", "the coordinator's URL (http://HOST:PORT)")
	f.Int("index", -1, "this worker's index, 0 … N−1 (default: $JOB_COMPLETION_INDEX)")
	f.String("token", "", "the coordinator's token (env CHAOSLOAD_TOKEN)")
	f.String("frames", "", "also write every frame to DIR/worker-I-attempt-A.jsonl (for chaosload merge)")
	return cmd
}

// runWorker runs one worker and returns its exit code.
func (a *app) runWorker(ctx context.Context, file string, sets []string) int {
	index, err := workerIndex(a.v.GetInt("index"))
	if err != nil || a.v.GetString("coordinator") == "" {
		fmt.Fprintf(a.stderr, "chaosload worker: %v\n", errors.Join(err, errIf(a.v.GetString("coordinator") == "", "--coordinator URL is required")))
		return exitInvalid
	}
	exp, err := a.load(file, sets)
	if err == nil {
		exp, err = (&suite{quick: a.v.GetBool("quick")}).admit(exp)
	}
	if err != nil {
		fmt.Fprintln(a.stderr, err)
		return exitInvalid
	}
	hash, err := experimentHash(file, sets, a.v.GetBool("quick"))
	if err != nil {
		fmt.Fprintln(a.stderr, err)
		return exitInvalid
	}
	build, closeDrivers := runner.WorkerLoad(exp, a.log)
	defer closeDrivers()
	err = cluster.RunWorker(ctx, cluster.WorkerConfig{Coordinator: strings.TrimSuffix(a.v.GetString("coordinator"), "/"),
		Index: index, Hash: hash, Token: a.v.GetString("token"), Load: build, Instants: runner.FaultInstants(exp), FramesDir: a.v.GetString("frames"), Logger: a.log,
		OnStart: func(attempt int, delay time.Duration) {
			fmt.Fprintf(a.stdout, "worker %d: started (attempt %d); the load starts in %v\n", index, attempt, delay.Round(time.Millisecond))
		}})
	if err == nil {
		fmt.Fprintf(a.stdout, "worker %d: its segment was offered and delivered\n", index)
	}
	return workerExit(ctx, err, a.stderr)
}

// workerExit maps a worker's end to its exit code.
func workerExit(ctx context.Context, err error, stderr interface{ Write([]byte) (int, error) }) int {
	var refused *cluster.RefusedError
	switch {
	case err == nil:
		return exitOK
	case ctx.Err() != nil:
		return exitInterrupted
	case errors.As(err, &refused):
		fmt.Fprintf(stderr, "chaosload worker: %v\n", err)
		return exitInvalid
	case errors.Is(err, cluster.ErrCoordinatorLost):
		fmt.Fprintf(stderr, "chaosload worker: %v\n", err)
		return exitIncomplete
	}
	fmt.Fprintf(stderr, "chaosload worker: %v\n", err)
	return exitInfra
}

// workerIndex is --index, else $JOB_COMPLETION_INDEX.
func workerIndex(flag int) (int, error) {
	if flag >= 0 {
		return flag, nil
	}
	env, ok := os.LookupEnv("JOB_COMPLETION_INDEX")
	if !ok {
		return 0, errors.New("--index or JOB_COMPLETION_INDEX is required")
	}
	i, err := strconv.Atoi(env)
	if err != nil || i < 0 {
		return 0, fmt.Errorf("JOB_COMPLETION_INDEX=%q: want a whole number ≥ 0", env)
	}
	return i, nil
}

// isLoopback reports whether host is a loopback address or localhost.
func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// errIf returns an error of msg when cond holds.
func errIf(cond bool, msg string) error {
	if cond {
		return errors.New(msg)
	}
	return nil
}
