package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chaosload/chaosload/runner"
)

// distributedExperiment offers 100 arrivals/s for 3 s (0.5 s of warm-up)
// to the test's server through the api proxy, split between the workers,
// with VUs enough that a stalled machine delays arrivals but drops none.
const distributedExperiment = `version: 1
name: distributed
seed: 3
targets:
  api: {upstream: "%s", protocol: http}
scenarios:
  users:
    executor: constant-arrival-rate
    rate: 100
    duration: 3s
    preAllocatedVUs: 20
    maxVUs: 400
    steps:
      - name: get
        http: {url: "http://${targets.api}/"}
warmup: 500ms
thresholds:
  errors: ["rate < 1%%"]
`

// distributedRun is a coordinator started with --workers and its file.
type distributedRun struct {
	coord  *liveRun
	file   string
	url    string
	result string
}

// startDistributed writes the experiment against a loopback server and
// starts its coordinator for n workers, with extra arguments of run; it
// returns once the coordinator listens.
func startDistributed(t *testing.T, n int, extra ...string) *distributedRun {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	d := &distributedRun{file: filepath.Join(dir, "distributed.yaml"), result: filepath.Join(dir, "result.json")}
	yaml := fmt.Sprintf(distributedExperiment, strings.TrimPrefix(srv.URL, "http://"))
	if err := os.WriteFile(d.file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	d.coord = startChaosload(t, nil, append([]string{"run", d.file, "--workers", fmt.Sprint(n), "--listen", "127.0.0.1:0",
		"--quiet", "--json", d.result}, extra...)...)
	line := d.coord.waitLine(t, "coordinator: waiting for")
	d.url = line[strings.Index(line, "http://"):]
	return d
}

// worker starts worker i of the run.
func (d *distributedRun) worker(t *testing.T, i int) *liveRun {
	t.Helper()
	return startChaosload(t, nil, "worker", d.file, "--coordinator", d.url, "--index", fmt.Sprint(i))
}

// end waits for the coordinator's exit and reads its result.
func (d *distributedRun) end(t *testing.T) e2eRun {
	t.Helper()
	select {
	case <-d.coord.waited:
	case <-time.After(hangLimit):
		t.Fatalf("coordinator still running after %v\n%s", hangLimit, d.coord.stdout())
	}
	r := e2eRun{code: exitCodeOf(d.coord.err), stdout: d.coord.stdout(), stderr: d.coord.stderr.String()}
	out, err := readResult(d.result)
	if err != nil {
		t.Fatalf("exit %d, no result: %v\n%s\n%s", r.code, err, r.stdout, tail(r.stderr, 40))
	}
	r.out = out
	return r
}

// TestDistributedWorkerKilledAfterStart: two workers start; worker 1 is
// SIGKILLed once the load has started. The run is incomplete (exit 5), and
// the result names worker 1 and the arrivals lost.
func TestDistributedWorkerKilledAfterStart(t *testing.T) {
	d := startDistributed(t, 2)
	w0, w1 := d.worker(t, 0), d.worker(t, 1)
	w0.waitLine(t, "started (attempt 1)")
	w1.waitLine(t, "started (attempt 1)")
	d.coord.waitLine(t, "the load starts in")
	if err := w1.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	r := d.end(t)
	r.expect(t, exitIncomplete, runner.Incomplete)
	if l := r.out.Lost; l == nil || l.Worker != 1 || l.LostArrivals <= 0 || l.Arrivals != 300 {
		t.Fatalf("lost worker %+v, want worker 1 with some of the run's 300 arrivals lost", l)
	}
	t.Logf("%s", r.out.Lost)
}

// TestDistributedWorkerKilledBeforeStartIsRetried: worker 0 registers and
// is SIGKILLed before worker 1 is there; a new worker 0 registers (attempt
// 2), the run starts and completes, and its verdict passes.
func TestDistributedWorkerKilledBeforeStartIsRetried(t *testing.T) {
	d := startDistributed(t, 2)
	first := d.worker(t, 0)
	d.coord.waitLine(t, "worker 0 registered (attempt 1)")
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	d.coord.waitLine(t, "worker 0 (attempt 1) left before the start")
	w0, w1 := d.worker(t, 0), d.worker(t, 1)
	r := d.end(t)
	r.expect(t, exitOK, runner.Passed)
	expectWorkersOK(t, w0, w1)
	if r.out.Workers != 2 || r.out.Totals.Ops != 300 {
		t.Fatalf("workers %d, operations %d; want 2 workers and the schedule's 300", r.out.Workers, r.out.Totals.Ops)
	}
	if !strings.Contains(w0.stdout(), "started (attempt 2)") {
		t.Fatalf("the second worker 0 did not start as attempt 2:\n%s", w0.stdout())
	}
}

// expectWorkersOK waits for each worker (worker i is workers[i]) and fails
// the test unless every one exited 0.
func expectWorkersOK(t *testing.T, workers ...*liveRun) {
	t.Helper()
	for i, w := range workers {
		<-w.waited
		if code := exitCodeOf(w.err); code != exitOK {
			t.Fatalf("worker %d exited %d\n%s", i, code, tail(w.stderr.String(), 20))
		}
	}
}
