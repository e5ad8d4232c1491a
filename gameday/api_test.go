package gameday

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

const timelineFile = `
version: 1
name: gameday-timeline
targets:
  echo: {upstream: "${UP}"}
faults:
  - name: tl-slow
    target: echo
    kind: latency
    latency: 150ms
    startTime: 0s
    duration: 1s
`

// TestChaosloadFaultsTimelineAndRevertAll drives chaosload's own endpoints
// and proves each with a TCP client through the proxy: a catalogue fault
// held for a duration and then reverted by itself, the file's timeline, a
// down fault undone by "revert everything".
func TestChaosloadFaultsTimelineAndRevertAll(t *testing.T) {
	t.Parallel()
	s, srv := session(t, experiment(t, echoServer(t), timelineFile), Config{})
	addr := s.Proxy("echo").Addr()

	brief := `{"name":"brief","target":"echo","kind":"latency","latency":"150ms","duration":"700ms"}`
	if got := call(t, srv.URL, "POST", "/chaosload/faults", brief, "", ""); got != http.StatusCreated {
		t.Fatalf("apply: %d", got)
	}
	if d := mustRoundTrip(t, addr); d < 150*time.Millisecond {
		t.Fatalf("round trip %s during a 150ms fault", d)
	}
	waitFor(t, "the fault's duration to end", func() bool { return len(s.ActiveFaults()) == 0 })
	mustRoundTripUnheld(t, s.Proxy("echo"))
	if !hasAudit(s, "duration-ended", "revert-fault") {
		t.Fatalf("audit %+v lacks the revert at the end of the duration", s.Audit())
	}

	if got := call(t, srv.URL, "POST", "/chaosload/timeline/start", "", "", ""); got != http.StatusNoContent {
		t.Fatalf("timeline start: %d", got)
	}
	waitFor(t, "the timeline's fault", func() bool { return len(s.ActiveFaults()) == 1 })
	if d := mustRoundTrip(t, addr); d < 150*time.Millisecond {
		t.Fatalf("round trip %s during the timeline's fault", d)
	}
	waitFor(t, "the timeline's revert", func() bool { return len(s.ActiveFaults()) == 0 })
	if !hasAudit(s, "timeline", "revert-fault") {
		t.Fatalf("audit %+v lacks the timeline's revert", s.Audit())
	}

	if got := call(t, srv.URL, "POST", "/chaosload/faults", `{"name":"cut","target":"echo","kind":"down"}`, "", ""); got != http.StatusCreated {
		t.Fatalf("apply down: %d", got)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial during down: %v", err)
	}
	if got := call(t, srv.URL, "POST", "/chaosload/revert", "", "", ""); got != http.StatusOK {
		t.Fatalf("revert all: %d", got)
	}
	mustRoundTrip(t, addr)
	if got := call(t, srv.URL, "POST", "/chaosload/faults", `{"name":"x","target":"nope","kind":"down"}`, "", ""); got != http.StatusNotFound {
		t.Fatalf("unknown target: %d, want 404", got)
	}
	if got := call(t, srv.URL, "POST", "/chaosload/faults", `{"name":"x","target":"echo","kind":"latency","latncy":"1s"}`, "", ""); got != http.StatusBadRequest {
		t.Fatalf("unknown key: %d, want 400", got)
	}
}

const loadFile = `
version: 1
name: gameday-load
targets:
  api: {upstream: "${UP}", protocol: http}
scenarios:
  users:
    executor: constant-arrival-rate
    rate: 20
    duration: 30s
    preAllocatedVUs: 10
    maxVUs: 40
    steps:
      - name: get
        http: {url: "http://${targets.api}/"}
`

// TestBackgroundLoadAndMetrics starts, adjusts and stops the background
// load, counting what reaches the upstream, and reads the load and the proxy
// in /metrics.
func TestBackgroundLoadAndMetrics(t *testing.T) {
	t.Parallel()
	var reqs, open atomic.Int64
	up := countingUpstream(t, &reqs, &open)
	s, srv := session(t, experiment(t, up, loadFile), Config{})
	if got := call(t, srv.URL, "POST", "/chaosload/load/start", `{"scale":1}`, "", ""); got != http.StatusOK {
		t.Fatalf("start: %d", got)
	}
	waitFor(t, "the first arrivals", func() bool { return reqs.Load() > 0 })
	// Rates over 2 s windows: the load is open (arrivals on a fixed
	// schedule), so a stall moves a few arrivals across a window's edge at
	// most, far from the factor 3 between the two.
	slow := rate(&reqs, 2*time.Second)
	if got := call(t, srv.URL, "POST", "/chaosload/load/adjust", `{"scale":3}`, "", ""); got != http.StatusOK {
		t.Fatalf("adjust: %d", got)
	}
	before := reqs.Load()
	waitFor(t, "the adjusted load's first arrivals", func() bool { return s.Load().Scale == 3 && reqs.Load() > before })
	fast := rate(&reqs, 2*time.Second)
	t.Logf("upstream rate ×1 %.1f/s, ×3 %.1f/s", slow, fast)
	if slow < 10 || fast < 2*slow {
		t.Fatalf("rates %.1f/s then %.1f/s: the adjusted load did not rise", slow, fast)
	}
	metrics := get(t, srv.URL+"/metrics")
	for _, want := range []string{
		`chaosload_proxy_active_connections{target="api"}`,
		`chaosload_proxy_bytes_total{direction="upstream",target="api"}`,
		`chaosload_load_latency_seconds_count{scenario="users",step="get",target="api"}`,
		`chaosload_load_operations_total{class="",target="api"}`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	call(t, srv.URL, "POST", "/chaosload/faults", `{"name":"lag","target":"api","kind":"latency","latency":"1ms"}`, "", "")
	if !strings.Contains(get(t, srv.URL+"/metrics"), `chaosload_faults_injected_total{kind="latency",target="api"} 1`) {
		t.Error("/metrics does not count the injected fault")
	}
	if got := call(t, srv.URL, "POST", "/chaosload/load/stop", "", "", ""); got != http.StatusNoContent {
		t.Fatalf("stop: %d", got)
	}
	if s.Load().Running {
		t.Fatal("the load still runs after stop")
	}
	// Stopped, the load lets go of its connections: nothing can reach the
	// upstream any more.
	waitFor(t, "the load's connections to the upstream closed", func() bool { return open.Load() == 0 })
}

// countingUpstream is an HTTP upstream that counts the requests it answers
// (n) and the connections open to it (open).
func countingUpstream(t *testing.T, n, open *atomic.Int64) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		_, _ = w.Write([]byte("ok"))
	}), ConnState: func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			open.Add(1)
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close(); <-done })
	return l.Addr().String()
}

// rate counts requests over d.
func rate(n *atomic.Int64, d time.Duration) float64 {
	start := n.Load()
	time.Sleep(d)
	return float64(n.Load()-start) / d.Seconds()
}

func get(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

func hasAudit(s *Session, who, action string) bool {
	for _, e := range s.Audit() {
		if e.Who == who && e.Action == action {
			return true
		}
	}
	return false
}

// waitFor polls cond (a counter reached, a state entered) until it holds;
// 30 s without it is a hang.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}
