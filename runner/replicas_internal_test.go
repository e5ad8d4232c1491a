package runner

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chaosload/chaosload/config"
)

// testLB is a tiny round-robin load balancer in front of the replica
// proxies, with an active health check of its own (GET /health every
// 100 ms; two failures in a row mark a backend down, one success up), a
// connection per request. It records what
// it did: every request it forwarded to each backend (sent, answered,
// status) and when it marked each backend down and up.
type testLB struct {
	mu       sync.Mutex
	backends []string
	up       []bool
	fails    []int       // failed checks in a row
	downAt   []time.Time // the first down mark of each backend
	upAt     []time.Time // the first up mark after it
	sent     [][]lbSend
	next     int
	client   *http.Client
}

type lbSend struct {
	sent, answered time.Time
	status         int
}

func newTestLB(backends []string) *testLB {
	n := len(backends)
	lb := &testLB{backends: backends, up: make([]bool, n), fails: make([]int, n), downAt: make([]time.Time, n), upAt: make([]time.Time, n),
		sent: make([][]lbSend, n),
		// a connection per request: Go's transport retries a request whose
		// reused connection closed under it, which the balancer would not
		// see as a second send
		client: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}}
	for i := range lb.up {
		lb.up[i] = true
	}
	return lb
}

// pick returns the next backend in rotation, -1 when none is up.
func (lb *testLB) pick() int {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	for range lb.backends {
		i := lb.next % len(lb.backends)
		lb.next++
		if lb.up[i] {
			return i
		}
	}
	return -1
}

func (lb *testLB) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	i := lb.pick()
	if i < 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	s := lbSend{sent: time.Now()}
	resp, err := lb.client.Get("http://" + lb.backends[i] + req.URL.Path)
	s.answered = time.Now()
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		s.status = resp.StatusCode
	}
	lb.mu.Lock()
	lb.sent[i] = append(lb.sent[i], s)
	lb.mu.Unlock()
	w.WriteHeader(max(s.status, http.StatusBadGateway))
}

// check runs the health checks until ctx ends.
func (lb *testLB) check(ctx context.Context) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for i, b := range lb.backends {
			ok := false
			if resp, err := lb.client.Get("http://" + b + "/health"); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				ok = resp.StatusCode == http.StatusOK
			}
			lb.mark(i, ok, time.Now())
		}
	}
}

func (lb *testLB) mark(i int, ok bool, at time.Time) {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	if ok {
		lb.fails[i] = 0
	} else {
		lb.fails[i]++
	}
	switch {
	case lb.up[i] && lb.fails[i] >= 2:
		lb.up[i] = false
		if lb.downAt[i].IsZero() {
			lb.downAt[i] = at
		}
	case !lb.up[i] && ok:
		lb.up[i] = true
		if lb.upAt[i].IsZero() {
			lb.upAt[i] = at
		}
	}
}

const replicasYAML = `version: 1
name: replicas
seed: 42
warmup: 0s
targets:
  api: {upstreams: [%q, %q, %q], protocol: http, checkPath: /health}
scenarios:
  shoppers:
    executor: constant-arrival-rate
    rate: 50
    duration: 6s
    preAllocatedVUs: 5
    steps:
      - http: {url: "http://%s/api/products"}
faults:
  - name: api-1-fails
    target: api
    kind: http-error
    status: 503
    startTime: 2s
    duration: 2s
    select: {index: [1]}
degradation:
  "rotation{target:api}": ["out < 30s", "back < 30s", "reached < 1000"]
`

// TestRotationAgreesWithLoadBalancer runs three real HTTP servers behind a
// replica proxy each, behind a round-robin load balancer with its own
// health check, and fails replica 1 for 2 s (http-error 503: the replica
// still accepts, so every request the balancer sends it is counted). The
// runner's rotation of api[1] must agree with the balancer's own record:
// out spans its last request to api[1] (to within one sample interval),
// back follows the revert and the balancer's up mark, and reached is
// exactly the requests the balancer sent to api[1] that the fault answered.
func TestRotationAgreesWithLoadBalancer(t *testing.T) {
	var servers []string
	for range 3 {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
		t.Cleanup(srv.Close)
		servers = append(servers, srv.Listener.Addr().String())
	}
	lbSrv := httptest.NewUnstartedServer(nil)
	exp, err := config.Parse("replicas.yaml", []byte(fmt.Sprintf(replicasYAML, servers[0], servers[1], servers[2], lbSrv.Listener.Addr())), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r := newRun(exp, Options{})
	t.Cleanup(r.close)
	if err := r.setup(ctx); err != nil {
		t.Fatal(err)
	}
	lb := newTestLB([]string{r.vars["targets.api[0]"], r.vars["targets.api[1]"], r.vars["targets.api[2]"]})
	lbSrv.Config.Handler = lb
	lbSrv.Start()
	t.Cleanup(lbSrv.Close)
	checkCtx, stopChecks := context.WithCancel(ctx)
	var checks sync.WaitGroup
	checks.Go(func() { lb.check(checkCtx) })
	err = r.execute(ctx)
	stopChecks()
	checks.Wait()
	if err != nil {
		t.Fatal(err)
	}
	r.judge()
	checkRotation(t, r, lb)
}

func checkRotation(t *testing.T, r *run, lb *testLB) {
	t.Helper()
	sel := r.out.Faults[0].Selection
	if sel == nil || len(sel.Replicas) != 1 || sel.Replicas[0].Name != "api[1]" || sel.Replicas[0].Listen != lb.backends[1] {
		t.Fatalf("selection = %+v, want api[1] at %s", sel, lb.backends[1])
	}
	if len(r.out.Episodes) != 1 || len(r.out.Episodes[0].Rotation) != 1 {
		t.Fatalf("episodes %+v: want one with the rotation of api[1]", r.out.Episodes)
	}
	rot := r.out.Episodes[0].Rotation[0]
	f := r.out.Faults[0]
	at := func(w time.Time) float64 { return w.Sub(r.loadStart).Seconds() }
	applied, reverted := *f.AppliedS, *f.RevertedS
	lb.mu.Lock()
	defer lb.mu.Unlock()
	down, up := lb.downAt[1], lb.upAt[1]
	if down.IsZero() || up.IsZero() {
		t.Fatalf("the balancer never marked api[1] down and up again (down %v, up %v)", down, up)
	}
	var failed []lbSend // the requests the fault answered, by the balancer's record
	for _, s := range lb.sent[1] {
		if s.status == http.StatusServiceUnavailable {
			failed = append(failed, s)
		}
		if s.sent.After(down) && s.sent.Before(up) {
			t.Errorf("the balancer sent a request to api[1] at %.3fs, after its down mark at %.3fs", at(s.sent), at(down))
		}
	}
	t.Logf("api[1]: out %v, back %v, reached %d; the balancer: %d requests answered by the fault, down mark +%.3fs, up mark %.3fs after the revert",
		ptrS(rot.OutS), ptrS(rot.BackS), rot.Reached, len(failed), at(down)-applied, at(up)-reverted)
	if rot.Reached != int64(len(failed)) {
		t.Errorf("reached = %d, the balancer sent api[1] %d requests the fault answered", rot.Reached, len(failed))
	}
	gap := maxGap(r.out.Traffic[0].Replicas[1].Points)
	switch {
	case rot.OutS == nil:
		t.Errorf("out not reached: %s", rot.Note)
	case len(failed) == 0 && *rot.OutS != 0:
		t.Errorf("out = %.3fs, but no request reached api[1] after the apply", *rot.OutS)
	case len(failed) > 0:
		last := failed[len(failed)-1]
		lo, hi := at(last.sent)-applied, at(last.answered)-applied+gap
		if *rot.OutS < lo || *rot.OutS > hi {
			t.Errorf("out = %.3fs; the last request to api[1] went at +%.3fs, answered at +%.3fs (samples ≤ %.3fs apart)",
				*rot.OutS, lo, at(last.answered)-applied, gap)
		}
	}
	if rot.BackS == nil || *rot.BackS < 0 || reverted+*rot.BackS+gap < at(up) {
		t.Errorf("back = %v after the revert at %.3fs; the balancer marked api[1] up at %.3fs", rot.BackS, reverted, at(up))
	}
	rows := 0
	for _, c := range r.out.Checks {
		if strings.HasPrefix(c.Name, "rotation{target:api}") && strings.Contains(c.Name, "api[1]") && c.Episode == 1 && c.Passed {
			rows++
		}
	}
	if rows != 3 {
		t.Errorf("%d passed rotation rows naming api[1] in episode 1, want 3: %+v", rows, r.out.Checks)
	}
}

// maxGap is the longest time between two samples of a series.
func maxGap(pts []TrafficPoint) float64 {
	g := 0.0
	for k := 1; k < len(pts); k++ {
		g = max(g, pts[k].TS-pts[k-1].TS)
	}
	return g
}

func ptrS(v *float64) string {
	if v == nil {
		return "not reached"
	}
	return fmt.Sprintf("%.3fs", *v)
}

const selectYAML = `version: 1
name: select
seed: %d
warmup: 0s
targets:
  api: {upstreams: [%q, %q, %q], protocol: http}
scenarios:
  s:
    executor: constant-arrival-rate
    rate: 20
    duration: 1s
    preAllocatedVUs: 2
    steps:
      - http: {url: "http://${targets.api[0]}/"}
faults:
  - {name: two-slow, target: api, kind: latency, latency: 1ms, startTime: 200ms, duration: 500ms, select: {count: 2}}
`

// TestSelectionIsSeededAndRecorded: two runs with one seed act on the same
// replicas, the ones the seed draws, and the outcome records them with
// their proxies' names and addresses.
func TestSelectionIsSeededAndRecorded(t *testing.T) {
	var servers []string
	for range 3 {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
		t.Cleanup(srv.Close)
		servers = append(servers, srv.Listener.Addr().String())
	}
	want, err := (&config.Select{Mode: config.SelectCount, Count: 2}).Pick(3, 42, "two-slow")
	if err != nil {
		t.Fatal(err)
	}
	for run := range 2 {
		exp, err := config.Parse("select.yaml", []byte(fmt.Sprintf(selectYAML, 42, servers[0], servers[1], servers[2])), config.Options{})
		if err != nil {
			t.Fatal(err)
		}
		out, err := Run(context.Background(), exp, Options{})
		if err != nil {
			t.Fatal(err)
		}
		sel := out.Faults[0].Selection
		if sel == nil || sel.Select != "count 2" || !sel.Seeded || len(sel.Replicas) != 2 {
			t.Fatalf("run %d: selection %+v, want count 2, seeded, two replicas", run, sel)
		}
		for i, rep := range sel.Replicas {
			k := want[i]
			if rep.Index != k || rep.Name != fmt.Sprintf("api[%d]", k) || rep.Upstream != servers[k] || rep.Listen != out.Targets[0].Replicas[k].Listen {
				t.Errorf("run %d: selected %+v, want api[%d] in front of %s", run, rep, k, servers[k])
			}
		}
	}
}
