package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaosload/chaosload/runner"
)

// TestExitCode is the exit-code rule for one run: what exitCode makes of
// every outcome, error and context it can meet.
func TestExitCode(t *testing.T) {
	t.Parallel()
	live := context.Background()
	interrupted, cancel := context.WithCancel(context.Background())
	cancel()
	infraErr := &runner.InfraError{Err: errors.New("target api: 127.0.0.1:1 refused the connection")}
	outcome := func(v runner.Verdict, busy string) *runner.Outcome {
		out := &runner.Outcome{Verdict: v}
		if busy != "" {
			out.Generator = &runner.GeneratorHealth{Busy: busy}
		}
		return out
	}
	tests := []struct {
		name string
		out  *runner.Outcome
		err  error
		ctx  context.Context
		want int
	}{
		// every expectation held
		{"passed", outcome(runner.Passed, ""), nil, live, exitOK},
		// an expectation failed: the gate
		{"failed", outcome(runner.Failed, ""), nil, live, exitFailed},
		// the file's abort: condition stopped the run
		{"aborted", outcome(runner.Aborted, ""), nil, live, exitAborted},
		// the user interrupted the run (the runner saw it first)
		{"interrupted verdict", outcome(runner.Interrupted, ""), nil, live, exitInterrupted},
		// the user interrupted the run: the context says so whatever the verdict
		{"cancelled context", outcome(runner.Passed, ""), nil, interrupted, exitInterrupted},
		// an interrupt wins over an infrastructure error it caused
		{"cancelled with an error", outcome(runner.Errored, ""), infraErr, interrupted, exitInterrupted},
		// a target unreachable at preflight, a fault that could not be applied
		{"infrastructure error", outcome(runner.Errored, ""), infraErr, live, exitInfra},
		// any other error of the runner is an infrastructure error too
		{"other error", outcome(runner.Errored, ""), fmt.Errorf("write results: %w", os.ErrPermission), live, exitInfra},
		// the generator's own lateness decides a named check: nothing learnt of the service
		{"inconclusive", outcome(runner.Inconclusive, ""), nil, live, exitInconclusive},
		// a busy generator decides nothing by itself: the checks stood both ways
		{"passed with a busy generator", outcome(runner.Passed, "lag p99 12ms over 5ms"), nil, live, exitOK},
		// nor does it excuse a failure that holds without its lateness
		{"failed with a busy generator", outcome(runner.Failed, "lag p99 12ms over 5ms"), nil, live, exitFailed},
		// an interrupted run stays interrupted, inconclusive or not
		{"inconclusive run interrupted", outcome(runner.Inconclusive, ""), nil, interrupted, exitInterrupted},
		// a distributed run lost a worker after the start: incomplete, never a pass
		{"incomplete", outcome(runner.Incomplete, ""), nil, live, exitIncomplete},
		// an outcome without a verdict the table knows is never a pass
		{"errored verdict without error", outcome(runner.Errored, ""), nil, live, exitInfra},
	}
	for _, tc := range tests {
		if got := exitCode(tc.out, tc.err, tc.ctx); got != tc.want {
			t.Errorf("%s: exitCode = %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestWorse is the rule for several experiments: the most severe exit code
// wins, in the order 0 < 1 < 3 < 5 < 2 < 4 < 130, whichever comes first.
func TestWorse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b, want int
	}{
		{exitOK, exitOK, exitOK},                            // all passed
		{exitOK, exitFailed, exitFailed},                    // one failed
		{exitFailed, exitAborted, exitAborted},              // an abort is worse than a failure
		{exitAborted, exitIncomplete, exitIncomplete},       // a lost worker is worse than an abort
		{exitIncomplete, exitInvalid, exitInvalid},          // a file that could not run is worse still
		{exitInvalid, exitInfra, exitInfra},                 // an infrastructure error is worse than an invalid file
		{exitInfra, exitInterrupted, exitInterrupted},       // an interrupt is the worst
		{exitOK, exitInterrupted, exitInterrupted},          // whatever came before it
		{exitFailed, exitInvalid, exitInvalid},              // an invalid file hides no failure
		{exitInterrupted, exitInterrupted, exitInterrupted}, // twice the same
	}
	for _, tc := range tests {
		if got := worse(tc.a, tc.b); got != tc.want {
			t.Errorf("worse(%d, %d) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := worse(tc.b, tc.a); got != tc.want {
			t.Errorf("worse(%d, %d) = %d, want %d (the order must not matter)", tc.b, tc.a, got, tc.want)
		}
	}
}

// abortingExperiment runs against a service that answers every request
// 503: errors are 100% from the first request, so the abort condition
// (over 95% for 2 s) trips whatever the machine, long before the 60 s of
// load end.
const abortingExperiment = `version: 1
name: abort-e2e
targets:
  api: {upstream: "%s", protocol: http}
warmup: 1s
scenarios:
  users:
    executor: constant-arrival-rate
    rate: 20
    duration: 60s
    preAllocatedVUs: 4
    steps:
      - name: get
        http: {url: "http://${targets.api}/"}
thresholds:
  errors: ["rate < 1%%"]
abort:
  errors: ["rate > 95%% for 2s"]
`

// TestAbortExits3 proves exit 3 through the command: a real run whose
// upstream refuses every request (503) stops on the file's abort condition,
// before its planned end, names the condition, and exits 3.
func TestAbortExits3(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	file := filepath.Join(t.TempDir(), "abort.yaml")
	if err := os.WriteFile(file, []byte(fmt.Sprintf(abortingExperiment, srv.Listener.Addr())), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runExperiment(t, nil, file)
	r.expect(t, exitAborted, runner.Aborted)
	if !strings.Contains(r.out.AbortReason, "errors") {
		t.Errorf("abort reason %q, want the errors condition named", r.out.AbortReason)
	}
	if planned := int64(20 * 60); r.out.Totals.Ops >= planned {
		t.Errorf("%d operations: the run went on to its planned %d", r.out.Totals.Ops, planned)
	}
	if r.out.Totals.Errors != r.out.Totals.Ops {
		t.Errorf("%d of %d operations failed, want every one (the service answers 503)", r.out.Totals.Errors, r.out.Totals.Ops)
	}
}
