package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/demo"
	"github.com/chaosload/chaosload/runner"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
)

func (a *app) runCommand() *cobra.Command {
	var sets []string
	cmd := &cobra.Command{
		Use:   "run FILE|DIR...",
		Short: "Run experiments; the exit code is the verdict",
		Long: `run executes each experiment: starts its proxies (and the bundled stack when the
file has a stack: section), applies the load and the fault timeline, judges the
phases and the recovery, checks acknowledged writes, and prints a summary.
While it runs, progress goes to stdout: a status line each second on a
terminal, a plain line every 10 s otherwise, and a line per fault applied or
reverted (--quiet turns it off). Logs go to stderr.

Reports, in any combination: --json, --junit, --markdown (also appended to
$GITHUB_STEP_SUMMARY when set), --html, or --out DIR for all of them and the
readiness report over every run (DIR/readiness.md, .html), judged against
--criteria FILE or the bundled plan (chaosload criteria prints it).
--baseline OLD.json (or DIR, an earlier --out: each experiment's NAME.json)
compares p95 latency, throughput and recovery time per phase with a saved
run and fails the run on a regression beyond --max-regression (10%).

Suites: a directory argument runs every *.yaml and *.yml in it, in name order;
--suite load,stress keeps the experiments whose tags: include one of the names
(all: every one); --quick multiplies every duration of the timeline by 0.1
(each at least 0.5s, never lengthened; a file's monitor.trend keeps its
warm-up and a minute of load) for a fast check. With --out and no
--baseline, a --suite that takes performance (or all) runs its first
experiment tagged performance once more at the end and compares the second
run with the first, this suite's baseline run. Several experiments give
one exit code, the worst, and combined reports: --junit (a testsuite per
experiment), --markdown, or --out DIR (a file per experiment and junit.xml).

Exit codes: 0 passed, 1 an expectation failed (or a regression against the
baseline), 2 invalid file or flags, 3 aborted, 4 infrastructure error (or a
report that could not be written) or inconclusive (the load generator's own
lateness decides a named check, or it fell short of the load it was to
offer), 5 incomplete (a distributed run lost a worker after the start),
130 interrupted (faults reverted, partial results written).

Distributed runs: --workers N --listen ADDR makes this process the coordinator
(proxies, stack, faults, probes, judgement and reports, once) and N
"chaosload worker FILE --coordinator http://ADDR" processes offer the load,
each its segment of the one schedule; their measurements merge exactly.
The fault proxies listen on loopback, so the workers must run on this
machine, unless --advertise HOST (an IP of this machine the workers reach)
puts them on HOST: then the workers receive HOST:PORT for ${targets.NAME}.
A target with a listen: of its own, or a step that names ${stack.NAME} (the
stack's addresses stay on loopback), cannot run so: exit 2, naming it.`,
		Args: args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			files, err := expandFiles(args)
			if err != nil {
				return usageError{err}
			}
			outs, err := newOutputs(a.v, a.stdout, len(files))
			if err != nil {
				return usageError{err}
			}
			if err := checkAdvertise(a.v.GetString("advertise"), a.v.GetInt("workers"), a.v.GetString("token")); err != nil {
				return usageError{err}
			}
			sel := &suite{tags: parseSuite(a.v.GetString("suite")), named: a.v.GetString("suite") != "", quick: a.v.GetBool("quick")}
			if sel.quick {
				outs.notes = append(outs.notes, fmt.Sprintf("--quick: every duration of the timeline × %g (at least %s); "+
					"a file's monitor.trend keeps its warm-up and a minute of load after it; "+
					"criteria on durations (sustained, recovery) and rates judge the shortened runs", config.QuickFactor, config.QuickFloor))
			}
			a.code = exitOK
			for _, f := range files {
				a.code = worse(a.code, a.runOne(cmd.Context(), f, sets, outs, sel))
				if a.code == exitInterrupted {
					break
				}
			}
			if len(sel.tags) > 0 && len(outs.done) == 0 && a.code == exitOK {
				return usageError{fmt.Errorf("--suite %s selects none of the %d experiments (by their tags:)",
					strings.Join(sel.tags, ","), len(files))}
			}
			if a.code != exitInterrupted {
				a.code = worse(a.code, a.recheckBaseline(cmd.Context(), sets, outs, sel)) // recheck.go
			}
			suiteSummary(a, outs, sel.skipped, a.code)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&sets, "set", nil, "override a field: --set path=value (e.g. stack.mode=naive); repeatable")
	f.Bool("quiet", false, "no progress lines")
	f.String("suite", "", "run only the experiments tagged with one of these names (comma-separated; all: every one)")
	f.Bool("quick", false, fmt.Sprintf("scale every duration of the timeline by %g (at least %s each) for a fast check", config.QuickFactor, config.QuickFloor))
	f.Int("workers", 0, "coordinate a distributed run: N chaosload worker processes offer the load, this one runs everything else and judges")
	f.String("listen", "127.0.0.1:0", "with --workers: the address the coordinator serves its workers on")
	f.String("token", "", "with --workers: the token every worker must present (env CHAOSLOAD_TOKEN); required when --listen or --advertise is not loopback")
	f.String("advertise", "", "with --workers: the IP the fault proxies listen on for the workers (env CHAOSLOAD_ADVERTISE; default loopback; on Kubernetes the pod's IP)")
	outputFlags(cmd)
	return cmd
}

// runOne runs one experiment file, writes its reports and returns its exit
// code.
func (a *app) runOne(ctx context.Context, file string, sets []string, outs *outputs, sel *suite) int {
	exp, err := a.load(file, sets)
	if err != nil {
		fmt.Fprintln(a.stderr, err)
		return exitInvalid
	}
	if exp, err = sel.admit(exp); err != nil {
		fmt.Fprintln(a.stderr, err)
		return exitInvalid
	} else if exp == nil {
		return exitOK
	}
	if err := checkAdvertised(exp, a.v.GetString("advertise")); err != nil {
		fmt.Fprintf(a.stderr, "chaosload: %v\n", err)
		return exitInvalid
	}
	p := newProgress(a.stdout, a.v.GetBool("quiet"))
	if p.tty && !p.quiet {
		if l, ok := a.stderr.(*lockedWriter); ok {
			l.setBefore(p.clearForLog)
			defer l.setBefore(nil)
		}
	}
	p.start(exp.Name, file, exp.PlannedSpan())
	p.note(episodeLines(exp))
	opts := runner.Options{
		Logger:     a.log,
		Stack:      demoStack(a.log),
		OnEvent:    p.event,
		OnProgress: p.status,
		NoSockmap:  a.v.GetString("fast-path") == "copy",
		LogDir:     serviceLogDir(a.v.GetString("out"), exp.Name),
		ProxyHost:  a.v.GetString("advertise"), // with --workers only (checkAdvertise)
	}
	if a.runOptions != nil {
		a.runOptions(&opts)
	}
	if n := a.v.GetInt("workers"); n > 0 {
		stop, err := a.coordinate(exp, sets, sel.quick, n, &opts)
		if err != nil {
			fmt.Fprintf(a.stderr, "chaosload: %v\n", err)
			return exitInvalid
		}
		defer stop()
	}
	out, err := runner.Run(ctx, exp, opts)
	p.done()
	if out == nil { // Run always returns an Outcome; be safe anyway
		return worse(exitInfra, exitCode(&runner.Outcome{Verdict: runner.Errored}, err, ctx))
	}
	outs.compare(out)
	code := exitCode(out, err, ctx)
	if errs := outs.write(out); len(errs) > 0 {
		for _, err := range errs {
			fmt.Fprintf(a.stderr, "chaosload: %v\n", err)
		}
		code = worse(code, exitInfra)
	}
	return code
}

// demoStack adapts demo's stack to the runner's stack hook.
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

// exitCode maps a run's outcome to the exit-code table. The verdict
// decides, and every report states the verdict, so the code and the
// reports agree; an interrupt or an infrastructure error the runner
// returned is already the verdict (interrupted, error).
func exitCode(out *runner.Outcome, err error, ctx context.Context) int {
	var ie *runner.InfraError
	switch {
	case ctx.Err() != nil:
		return exitInterrupted
	case errors.As(err, &ie), err != nil:
		return exitInfra
	}
	return verdictCode(out.Verdict)
}

// verdictCode is the exit code of a verdict.
func verdictCode(v runner.Verdict) int {
	switch v {
	case runner.Passed:
		return exitOK
	case runner.Failed:
		return exitFailed
	case runner.Aborted:
		return exitAborted
	case runner.Inconclusive:
		return exitInconclusive
	case runner.Incomplete:
		return exitIncomplete
	case runner.Interrupted:
		return exitInterrupted
	}
	return exitInfra
}

// worse combines the exit codes of several experiments: the most severe
// wins (interrupted, infrastructure, invalid, incomplete, aborted, failed,
// ok).
func worse(a, b int) int {
	rank := map[int]int{exitOK: 0, exitFailed: 1, exitAborted: 2, exitIncomplete: 3, exitInvalid: 4, exitInfra: 5, exitInterrupted: 6}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// serviceLogDir is where the logs of an experiment's own services go:
// DIR/NAME-services with --out DIR, else "" (a temporary directory the run
// removes).
func serviceLogDir(out, name string) string {
	if out == "" {
		return ""
	}
	return filepath.Join(out, name+"-services")
}
