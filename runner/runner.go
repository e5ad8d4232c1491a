// Package runner runs one experiment end to end: it starts the bundled stack
// when asked, starts a proxy per target, checks every upstream is reachable,
// applies the load and the fault timeline on one clock, watches the abort
// conditions, reverts every fault on every exit path, checks acknowledged
// writes, and judges phases and recovery into an Outcome.
//
// runner renders nothing (that is package report) and never exits the
// process; cmd turns the Outcome into an exit code.
package runner

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chaosload/chaosload/cluster"
	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/load"
	"github.com/rs/zerolog"
)

// Options tunes a run. The zero value is usable for experiments without a
// `stack:` section.
type Options struct {
	// Logger receives the run's logs; the zero value discards them.
	Logger zerolog.Logger
	// Stack makes the bundled stack; nil refuses experiments with `stack:`.
	Stack StackFactory
	// OnEvent receives the stack's start, fault applies and reverts and
	// the abort as they happen. It must not block.
	OnEvent func(Event)
	// OnProgress is called every ProgressEvery with a snapshot of the run.
	OnProgress func(Progress)
	// ProgressEvery is the progress period (default 1s).
	ProgressEvery time.Duration
	// PreflightTimeout bounds the reachability check of each upstream
	// (default 3s).
	PreflightTimeout time.Duration
	// RevertTimeout bounds each fault's revert (default 10s).
	RevertTimeout time.Duration
	// NoSockmap keeps the proxies on the copy path even where the kernel's
	// sockmap fast path is available (proxy.Config.NoSockmap).
	NoSockmap bool
	// Load, when set, adjusts the configuration of each load the run
	// starts, after the runner filled it: drivers of one's own
	// (Config.Drivers), or the Config.Stall test hook. nil changes
	// nothing.
	Load func(*load.Config)
	// Workers, when set, makes the run the coordinator of a distributed
	// run: the workers registered with it offer the load (each its
	// segment), and their frames fill the run's recorder; everything else
	// (stack, proxies, faults, probes, judgement) runs here, once. nil:
	// this process offers the load.
	Workers *cluster.Coordinator
	// ProxyHost is the host (an IP) the proxies of targets whose listen
	// address is the default bind, each on a free port: a distributed
	// run's workers in other pods or machines reach the proxies there
	// (run --advertise). Empty: loopback (config.DefaultListen). A target
	// with a listen address of its own keeps it.
	ProxyHost string
	// LogDir receives the logs of the file's services (stack.services),
	// one NAME.log each; empty: a temporary directory removed at the end.
	LogDir string
}

// Event is something that happened during the run.
type Event struct {
	// At is the offset from the start of the load.
	At time.Duration
	// Kind is "stack-started" (At 0: before the load; Message names the
	// stack's processes and addresses), "service-started" (a service of
	// the file is ready; Fault names it), "service-exited",
	// "service-restarted", "service-ready", "service-gave-up",
	// "fault-applied", "fault-reverted", "fault-failed" or "abort".
	Kind    string
	Fault   string
	Message string
}

// Progress is a snapshot of a running experiment. The rates and p95 are
// over the last second of complete intervals.
type Progress struct {
	// Elapsed is the time since the load started; Total the planned length.
	Elapsed, Total time.Duration
	// Phase is the live phase: warm-up, baseline, fault or recovery.
	Phase        string
	ActiveFaults []string
	OpsPerSec    float64
	P95          time.Duration
	ErrorRate    float64
	// VUs are in service, BusyVUs running an iteration now.
	VUs, BusyVUs int
	// Dropped counts the arrivals so far that found no free VU.
	Dropped int64
}

// InfraError is a problem of the environment, not of the service under
// test: an unreachable upstream, a port taken, a missing dependency, a fault
// that could not be applied. cmd maps it to exit code 4.
type InfraError struct{ Err error }

func (e *InfraError) Error() string { return e.Err.Error() }
func (e *InfraError) Unwrap() error { return e.Err }

func infra(format string, a ...any) error {
	return &InfraError{fmt.Errorf(format, a...)}
}

// Run executes exp and returns its Outcome. exp is not changed: the run
// resolves its addresses into a copy, so one value may run again. The Outcome is returned even when
// the run stops early (interrupt, abort, infrastructure error), marked
// partial; err is non-nil only for an infrastructure error (an *InfraError).
// Cancelling ctx interrupts the run: faults are reverted, partial results
// returned with Verdict Interrupted.
func Run(ctx context.Context, exp *config.Experiment, opts Options) (*Outcome, error) {
	r := newRun(exp, opts)
	defer r.close()
	r.wrapStack()
	if err := r.setup(ctx); err != nil {
		return r.fail(err), err
	}
	execute := r.execute
	if exp.Stress != nil {
		execute = r.executeStress
	}
	if err := execute(ctx); err != nil {
		r.judge()
		return r.fail(err), err
	}
	r.judge()
	r.judgeServices()
	if ctx.Err() == nil && r.abortReason == "" {
		r.verify(ctx)
	}
	r.decide(ctx)
	return r.out, nil
}

// fail marks the outcome as an infrastructure error.
func (r *run) fail(err error) *Outcome {
	var ie *InfraError
	if !errors.As(err, &ie) {
		err = &InfraError{err}
	}
	r.out.Errors = append(r.out.Errors, err.Error())
	r.out.Verdict, r.out.Passed, r.out.Partial = Errored, false, true
	return r.out
}

// decide sets the verdict from what was measured. A failure the load
// generator cannot explain fails the run whatever the generator did; only
// when nothing failed does what the generator decides (Inconclusive) make
// the run inconclusive.
func (r *run) decide(ctx context.Context) {
	o := r.out
	switch {
	case ctx.Err() != nil:
		o.Verdict, o.Partial = Interrupted, true
	case r.abortReason != "":
		o.Verdict, o.Partial, o.AbortReason = Aborted, true, r.abortReason
	case o.Lost != nil:
		o.Verdict, o.Partial = Incomplete, true
	case len(o.Errors) > 0:
		o.Verdict, o.Partial = Errored, true
	case r.anyFailed():
		o.Verdict = Failed
	case len(o.Inconclusive) > 0:
		o.Verdict = Inconclusive
	default:
		o.Verdict = Passed
	}
	o.Passed = o.Verdict == Passed
}

// anyFailed reports whether an expectation failed both with and without
// the generator's own lateness.
func (r *run) anyFailed() bool {
	for _, c := range r.out.Checks {
		if c.Failed() {
			return true
		}
	}
	if r.out.Recovery.Failed() {
		return true
	}
	for _, e := range r.out.Episodes {
		if e.Recovery.Failed() {
			return true
		}
	}
	for _, v := range r.out.Verify {
		if !v.Passed {
			return true
		}
	}
	return false
}

// loadConfig applies Options.Load to cfg.
func (r *run) loadConfig(cfg load.Config) load.Config {
	if r.opts.Load != nil {
		r.opts.Load(&cfg)
	}
	return cfg
}
