package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chaosload/chaosload/demo"
	"github.com/chaosload/chaosload/report"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// countingServer counts requests and open connections.
func countingServer(t *testing.T) (addr string, reqs, open *atomic.Int64) {
	t.Helper()
	reqs, open = new(atomic.Int64), new(atomic.Int64)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqs.Add(1)
		_, _ = w.Write([]byte("ok"))
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			open.Add(1)
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), reqs, open
}

const gamedayFile = `version: 1
name: gameday-cmd
targets:
  api: {upstream: "${GD_UP}", protocol: http}
scenarios:
  users:
    executor: constant-arrival-rate
    rate: 20
    duration: 5s
    preAllocatedVUs: 5
    steps:
      - http: {url: "http://${targets.api}/"}
thresholds:
  latency: ["p(95) < 100ms"]
`

var apiLine = regexp.MustCompile(`dashboard on http://([0-9.:]+)/`)

// TestGamedayRevertsEverythingOnExit starts `chaosload gameday` with
// background load, applies a toxic and a catalogue fault through the API,
// holds a connection through the proxy, ends the game day with Ctrl-C
// (SIGINT), and checks from outside that nothing is left: the upstream's
// connections are closed, the proxy refuses, and the audit log and the
// report record the changes and the revert.
func TestGamedayRevertsEverythingOnExit(t *testing.T) {
	up, reqs, open := countingServer(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "gd.yaml")
	if err := os.WriteFile(file, []byte(gamedayFile), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	gd, base := startGameday(t, []string{"GD_UP=" + up}, file, "--out", out, "--load")

	var state struct {
		Targets []struct{ Name, Listen string }
	}
	getJSON(t, base+"/chaosload/state", &state)
	listen := state.Targets[0].Listen
	post(t, base+"/proxies/api/toxics", `{"name":"slow","type":"latency","attributes":{"latency":20}}`, http.StatusOK)
	post(t, base+"/chaosload/faults", `{"name":"held","target":"api","kind":"slow-close","delay":"100ms","duration":"10m"}`, http.StatusCreated)
	held, err := net.Dial("tcp", listen)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	waitUntil(t, "background load reaching the upstream", func() bool { return reqs.Load() > 10 })

	if code := gd.interrupt(t); code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, gd.stdout(), gd.stderr.String())
	}
	// The process is gone: what it held must be too.
	waitUntil(t, "the upstream's connections closed", func() bool { return open.Load() == 0 })
	if c, err := net.DialTimeout("tcp", listen, time.Second); err == nil {
		c.Close()
		t.Fatal("the proxy still accepts connections after exit")
	}
	checkGamedayRecords(t, out)
}

// startGameday starts `chaosload gameday FILE --listen 127.0.0.1:0` with
// extra arguments and env, and returns it with the base URL of its API once
// it has printed it.
func startGameday(t *testing.T, env []string, file string, extra ...string) (*liveRun, string) {
	t.Helper()
	gd := startChaosload(t, env, append([]string{"gameday", file, "--listen", "127.0.0.1:0"}, extra...)...)
	m := apiLine.FindStringSubmatch(gd.waitLine(t, "dashboard on http://"))
	if m == nil {
		t.Fatalf("no API address in the output\n%s", gd.stdout())
	}
	return gd, "http://" + m[1]
}

func checkGamedayRecords(t *testing.T, out string) {
	t.Helper()
	audit, err := os.ReadFile(filepath.Join(out, "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"action":"add-toxic"`, `"action":"apply-fault"`, `"who":"shutdown","action":"revert-all"`, `"action":"start-load"`} {
		if !strings.Contains(string(audit), want) {
			t.Errorf("audit log lacks %s:\n%s", want, audit)
		}
	}
	f, err := os.Open(filepath.Join(out, "gameday.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	o, err := report.ReadJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Audit) < 4 || len(o.Faults) != 2 || o.Totals.Ops == 0 {
		t.Fatalf("report: %d audit entries, faults %+v, %d ops", len(o.Audit), o.Faults, o.Totals.Ops)
	}
	for _, f := range o.Faults {
		if f.RevertedS == nil {
			t.Errorf("fault %s not marked reverted in the report", f.Name)
		}
	}
	html, err := os.ReadFile(filepath.Join(out, "gameday.html"))
	if err != nil || !bytes.Contains(html, []byte("revert-all")) {
		t.Errorf("HTML report lacks the audit log (%v)", err)
	}
}

// TestGamedayNonLoopbackNeedsToken: binding beyond loopback without a token
// is a usage error, and nothing is started.
func TestGamedayNonLoopbackNeedsToken(t *testing.T) {
	t.Setenv("GD_UP", "127.0.0.1:1")
	file := filepath.Join(t.TempDir(), "gd.yaml")
	if err := os.WriteFile(file, []byte(gamedayFile), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := invoke(t, context.Background(), "gameday", file, "--listen", "0.0.0.0:0")
	if code != exitInvalid || !strings.Contains(stderr, "--token") {
		t.Fatalf("exit %d, want %d naming --token:\n%s", code, exitInvalid, stderr)
	}
}

// waitUntil polls cond until it holds; a minute without it is a hang.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func post(t *testing.T, url, body string, want int) {
	t.Helper()
	res, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != want {
		var b bytes.Buffer
		_, _ = b.ReadFrom(res.Body)
		t.Fatalf("POST %s: %d, want %d: %s", url, res.StatusCode, want, b.String())
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

const gamedayPGFile = `version: 1
name: gameday-pg
targets:
  postgres: {upstream: "${GD_PG}", protocol: postgres, dsn: "${GD_DSN}"}
`

// TestGamedayReleasesPoolOnExit: a pool-exhaustion fault applied through the
// API holds every connection slot of a real PostgreSQL server (the shop role
// is refused with 53300); ending the game day releases them (the shop role
// connects again). The server is not chaosload's: only the revert frees it.
func TestGamedayReleasesPoolOnExit(t *testing.T) {
	skipShort(t)
	pg, err := demo.StartPostgres(context.Background(), demo.PostgresConfig{})
	if errors.Is(err, demo.ErrPostgresNotInstalled) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pg.Close() })
	file := filepath.Join(t.TempDir(), "gd.yaml")
	if err := os.WriteFile(file, []byte(gamedayPGFile), 0o644); err != nil {
		t.Fatal(err)
	}
	gd, base := startGameday(t, []string{"GD_PG=" + pg.Addr(), "GD_DSN=" + pg.DSN(demo.Superuser, demo.ShopDatabase)}, file)
	post(t, base+"/chaosload/faults", `{"name":"exhaust","target":"postgres","kind":"pool-exhaustion"}`, http.StatusCreated)

	shop := pg.DSN(demo.ShopRole, demo.ShopDatabase)
	if err := pgPing(shop); !isSQLState(err, "53300") {
		t.Fatalf("shop role during pool exhaustion: %v, want 53300", err)
	}
	if code := gd.interrupt(t); code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, gd.stdout(), gd.stderr.String())
	}
	if err := pgPing(shop); err != nil {
		t.Fatalf("shop role after the game day: %v (connections not released)", err)
	}
}

func pgPing(dsn string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	return c.Close(ctx)
}

func isSQLState(err error, code string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == code
}

// TestGamedayStopsTheStack: a game day on the bundled experiment (stack:
// demo) brings the stack up behind the proxies, serves the file's targets to
// Toxiproxy clients, and on exit closes every listener: the proxies, the
// demo service, PostgreSQL and Redis.
func TestGamedayStopsTheStack(t *testing.T) {
	gd, base := startGameday(t, nil, "../../experiments/db-exhaustion.yaml")
	var proxies map[string]struct{ Listen, Upstream string }
	getJSON(t, base+"/proxies", &proxies)
	if len(proxies) != 3 || proxies["api"].Upstream == "" || proxies["postgres"].Upstream == "" {
		t.Fatalf("proxies %+v: want the file's api, postgres and redis", proxies)
	}
	post(t, base+"/proxies/api/toxics", `{"type":"latency","attributes":{"latency":10}}`, http.StatusOK)
	res, err := http.Get("http://" + proxies["api"].Listen + "/healthz")
	if err != nil {
		t.Fatalf("the demo service through its proxy: %v", err)
	}
	res.Body.Close()
	if code := gd.interrupt(t); code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, gd.stdout(), gd.stderr.String())
	}
	for name, p := range proxies {
		refusesConnections(t, "proxy "+name, p.Listen)
		refusesConnections(t, "upstream of "+name, p.Upstream)
	}
}
