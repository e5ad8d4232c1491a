package runner_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/demo"
	"github.com/chaosload/chaosload/host"
	"github.com/chaosload/chaosload/runner"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	host.RunHogIfChild()     // cpu-hog's and memory-hog's hogs re-execute this binary
	demo.RunServiceIfChild() // the demo stack's service re-executes this binary
	goleak.VerifyTestMain(m)
}

// experiment parses an experiment written inline, with ${UP} set to upstream.
func experiment(t testing.TB, upstream, yaml string) *config.Experiment {
	t.Helper()
	env := func(name string) (string, bool) {
		if name == "UP" {
			return upstream, true
		}
		return "", false
	}
	exp, err := config.Parse(t.Name()+".yaml", []byte(yaml), config.Options{LookupEnv: env})
	if err != nil {
		t.Fatalf("parse:\n%v", err)
	}
	return exp
}

// okServer is an upstream that answers every request at once.
func okServer(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// deadAddr returns a loopback address nothing listens on.
func deadAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// events collects the runner's events.
type events struct {
	mu  sync.Mutex
	all []runner.Event
	ch  chan runner.Event
}

func newEvents() *events { return &events{ch: make(chan runner.Event, 64)} }

func (e *events) on(ev runner.Event) {
	e.mu.Lock()
	e.all = append(e.all, ev)
	e.mu.Unlock()
	select {
	case e.ch <- ev:
	default:
	}
}

// waitFor blocks until an event of kind arrives.
func (e *events) waitFor(t testing.TB, kind string, within time.Duration) runner.Event {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case ev := <-e.ch:
			if ev.Kind == kind {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %s event within %s", kind, within)
		}
	}
}

// latencyExperiment runs 12 s of load at 100/s through a real proxy. The
// tests that run load do it one at a time (none is t.Parallel): several at
// once in one race-instrumented process on 2 cores stalled each other's
// baselines past a second (p95 1.5 s, arrivals dropped at maxVUs), which
// says nothing of the runner. maxVUs leaves room for a stall of the machine
// without dropping arrivals.
const latencyExperiment = `
version: 1
name: latency-recovers
targets:
  api: {upstream: "${UP}", protocol: http}
scenarios:
  users:
    executor: constant-arrival-rate
    rate: 100
    duration: 12s
    preAllocatedVUs: 20
    maxVUs: 400
    steps:
      - name: get
        http: {url: "http://${targets.api}/"}
warmup: 1s
thresholds:
  latency: ["p(95) < 1s"]
  errors: ["rate < 1%"]
faults:
  - name: slow
    target: api
    kind: latency
    latency: 250ms
    startTime: 3s
    duration: 3s
degradation:
  latency: ["p(50) > 200ms", "p(99) < 2s"]
recovery: {within: 3s, hold: 1s, window: 1s}
`

// TestRunMeasuresFaultAndRecovery runs a latency fault through a real proxy:
// the phases are cut where the fault was applied and reverted, the fault
// phase shows at least the injected delay, and recovery is measured within
// its bound. (The steady state, p(95) < 1s, is far above what a loopback
// request to an empty handler costs, busy machine or not: only a defect
// fails it.)
func TestRunMeasuresFaultAndRecovery(t *testing.T) {
	// not parallel: see latencyExperiment
	ev := newEvents()
	out, err := runner.Run(context.Background(), experiment(t, okServer(t), latencyExperiment), runner.Options{OnEvent: ev.on})
	if err != nil {
		t.Fatal(err)
	}
	if out.Verdict != runner.Passed {
		t.Fatalf("verdict %s; checks %+v; recovery %+v; errors %v; inconclusive %q", out.Verdict, out.Checks, out.Recovery, out.Errors, out.Inconclusive)
	}
	names := []string{}
	for _, p := range out.Phases {
		names = append(names, p.Name)
	}
	if got := strings.Join(names, ","); got != "warm-up,baseline,fault,recovery,steady" {
		t.Fatalf("phases %s", got)
	}
	f := out.Faults[0]
	if f.AppliedS == nil || f.RevertedS == nil || *f.AppliedS < 3 || *f.RevertedS < 6 {
		t.Fatalf("fault record %+v, want applied at 3 s and reverted at 6 s or later", f)
	}
	for _, c := range out.Checks {
		if c.Phase == "fault" && strings.HasPrefix(c.Name, "latency: p(50)") && *c.Value < 240 {
			t.Fatalf("median latency during the fault %.1fms, want at least about the 250ms injected", *c.Value)
		}
	}
	if r := out.Recovery; r == nil || r.MeasuredS == nil || !r.Passed {
		t.Fatalf("recovery %+v, want measured within its bound", out.Recovery)
	}
	if len(ev.all) != 2 || ev.all[0].Kind != "fault-applied" || ev.all[1].Kind != "fault-reverted" {
		t.Fatalf("events %+v", ev.all)
	}
	if out.Targets[0].Accepted == 0 || out.Totals.Ops < 1000 {
		t.Fatalf("targets %+v totals %+v", out.Targets, out.Totals)
	}
}

// TestRunFailsWhenDegradationBreaks proves the gate can fail: a fault far
// worse than the degradation allows fails the run, naming the check.
func TestRunFailsWhenDegradationBreaks(t *testing.T) {
	// not parallel: see latencyExperiment
	yaml := strings.Replace(latencyExperiment, `degradation:
  latency: ["p(50) > 200ms", "p(99) < 2s"]`, `degradation:
  latency: ["p(99) < 100ms"]`, 1)
	out, err := runner.Run(context.Background(), experiment(t, okServer(t), yaml), runner.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if out.Verdict != runner.Failed || out.Passed {
		t.Fatalf("verdict %s, want failed", out.Verdict)
	}
	var failed []string
	for _, c := range out.Checks {
		if !c.Passed && !c.Skipped {
			failed = append(failed, c.Phase+" "+c.Name)
		}
	}
	if len(failed) != 1 || failed[0] != "fault latency: p(99) < 100ms" {
		t.Fatalf("failed checks %q", failed)
	}
}

// TestRunInterruptRevertsAndReturnsPartial cancels the run while a fault is
// active: the fault is reverted, the outcome is partial and interrupted, and
// the proxy no longer listens.
func TestRunInterruptRevertsAndReturnsPartial(t *testing.T) {
	// not parallel: see latencyExperiment
	ev := newEvents()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	exp := experiment(t, okServer(t), latencyExperiment)
	type result struct {
		out *runner.Outcome
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := runner.Run(ctx, exp, runner.Options{OnEvent: ev.on})
		done <- result{out, err}
	}()
	ev.waitFor(t, "fault-applied", 30*time.Second)
	cancel()
	var res result
	select {
	case res = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Run has not returned 30s after the interrupt: it hangs")
	}
	if res.err != nil {
		t.Fatal(res.err)
	}
	o := res.out
	if o.Verdict != runner.Interrupted || !o.Partial || o.Passed {
		t.Fatalf("verdict %s partial %v", o.Verdict, o.Partial)
	}
	if f := o.Faults[0]; f.RevertedS == nil || f.Error != "" {
		t.Fatalf("fault not reverted: %+v", f)
	}
	if c, err := net.DialTimeout("tcp", o.Targets[0].Listen, time.Second); err == nil {
		c.Close()
		t.Fatalf("proxy %s still listening after the run", o.Targets[0].Listen)
	}
}

// TestRunAborts stops the run on its abort condition: the target goes down,
// errors pass the bound, the run ends early with the fault reverted.
func TestRunAborts(t *testing.T) {
	// not parallel: see latencyExperiment
	yaml := `
version: 1
name: abort
targets:
  api: {upstream: "${UP}", protocol: http}
scenarios:
  users:
    executor: constant-arrival-rate
    rate: 50
    duration: 30s
    preAllocatedVUs: 10
    steps:
      - name: get
        http: {url: "http://${targets.api}/", timeout: 1s}
warmup: 1s
thresholds:
  errors: ["rate < 1%"]
faults:
  - {name: outage, target: api, kind: down, startTime: 2s, duration: 5s}
recovery: {within: 5s, hold: 1s, window: 1s}
abort:
  errors: ["rate > 50% for 1s"]
`
	out, err := runner.Run(context.Background(), experiment(t, okServer(t), yaml), runner.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if out.Verdict != runner.Aborted || !strings.Contains(out.AbortReason, "errors") {
		t.Fatalf("verdict %s reason %q", out.Verdict, out.AbortReason)
	}
	if out.DurationS >= 30 {
		t.Fatalf("aborted run lasted %.1fs: its planned 30 s, not stopped by the abort", out.DurationS)
	}
	if f := out.Faults[0]; f.RevertedS == nil || f.Error != "" {
		t.Fatalf("fault not reverted: %+v", f)
	}
}

// TestRunPreflightNamesUnreachableTarget refuses to start against a target
// whose upstream does not answer.
func TestRunPreflightNamesUnreachableTarget(t *testing.T) {
	t.Parallel()
	dead := deadAddr(t)
	yaml := strings.Replace(latencyExperiment, `api: {upstream: "${UP}", protocol: http}`,
		`api: {upstream: "${UP}", protocol: http}
  ghost: {upstream: "`+dead+`"}`, 1)
	out, err := runner.Run(context.Background(), experiment(t, okServer(t), yaml), runner.Options{})
	var ie *runner.InfraError
	if !errors.As(err, &ie) {
		t.Fatalf("err = %v, want an InfraError", err)
	}
	if !strings.Contains(err.Error(), `target "ghost"`) || !strings.Contains(err.Error(), dead) {
		t.Fatalf("error does not name the target and address: %v", err)
	}
	if out.Verdict != runner.Errored || len(out.Faults) != 0 {
		t.Fatalf("outcome %+v", out)
	}
}

// TestRunApplyFailureStopsAndReverts: a fault that cannot be applied (no
// server behind the dsn) ends the run as an infrastructure error, after
// reverting what was applied before it.
func TestRunApplyFailureStopsAndReverts(t *testing.T) {
	// not parallel: see latencyExperiment
	dead := deadAddr(t)
	yaml := strings.Replace(latencyExperiment, `  api: {upstream: "${UP}", protocol: http}`,
		fmt.Sprintf(`  api: {upstream: "${UP}", protocol: http}
  pg: {upstream: "${UP}", protocol: postgres, dsn: "postgres://postgres@%s/shop?connect_timeout=1"}`, dead), 1)
	yaml = strings.Replace(yaml, "faults:\n", `faults:
  - {name: exhaust, target: pg, kind: pool-exhaustion, startTime: 4s, duration: 1s}
`, 1)
	out, err := runner.Run(context.Background(), experiment(t, okServer(t), yaml), runner.Options{})
	var ie *runner.InfraError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), `fault "exhaust"`) {
		t.Fatalf("err = %v, want an InfraError naming the fault", err)
	}
	byName := map[string]runner.FaultResult{}
	for _, f := range out.Faults {
		byName[f.Name] = f
	}
	if slow := byName["slow"]; slow.AppliedS == nil || slow.RevertedS == nil {
		t.Fatalf("the fault applied before the failure was not reverted: %+v", out.Faults)
	}
	if ex := byName["exhaust"]; ex.AppliedS != nil || !strings.Contains(ex.Error, "connection refused") {
		t.Fatalf("failed fault record %+v", ex)
	}
	if out.DurationS >= 12 {
		t.Fatalf("the run lasted %.1fs: its planned 12 s, not stopped by the failure at 4 s", out.DurationS)
	}
}

// TestRunTwiceSameExperiment: Run resolves addresses into a copy, so the
// caller's experiment keeps its ${targets.api} and the same value runs
// again through its second run's proxy. (When Run resolved in place, the
// second run dialled the first run's closed proxy: every request refused.)
func TestRunTwiceSameExperiment(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Via") == r.Host { // the header was resolved too
			hits.Add(1)
		}
	}))
	t.Cleanup(srv.Close)
	exp := experiment(t, srv.Listener.Addr().String(), `
version: 1
name: twice
targets:
  api: {upstream: "${UP}", protocol: http}
scenarios:
  s:
    executor: shared-iterations
    vus: 1
    iterations: 5
    steps:
      - name: get
        http: {url: "http://${targets.api}/", headers: {X-Via: "${targets.api}"}}
warmup: 0s
`)
	before := exp.Clone()
	for run := 1; run <= 2; run++ {
		out, err := runner.Run(context.Background(), exp, runner.Options{})
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if out.Totals.Ops != 5 || out.Totals.Errors != 0 {
			t.Fatalf("run %d: %d operations, %d errors (%v); want 5 and 0", run, out.Totals.Ops, out.Totals.Errors, out.Totals.ByClass)
		}
		if got := hits.Load(); got != int64(5*run) {
			t.Fatalf("after run %d the upstream saw %d requests through the proxy, want %d", run, got, 5*run)
		}
		if !reflect.DeepEqual(exp, before) {
			t.Fatalf("run %d changed the caller's experiment: url %q", run, exp.Scenarios[0].Steps[0].HTTP.URL)
		}
	}
}
