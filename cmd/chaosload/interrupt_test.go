package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chaosload/chaosload/demo"
	"github.com/chaosload/chaosload/runner"
	"github.com/jackc/pgx/v5"
)

// interruptDuringFault runs the binary on file, waits for the progress
// lines on stdout that say each of the faults was applied (in any order),
// sends SIGINT and returns the exit code, the child PIDs the run had just
// before the signal, and the result file.
func interruptDuringFault(t *testing.T, file string, faults []string, before func()) (int, []int, *runner.Outcome) {
	t.Helper()
	result := filepath.Join(t.TempDir(), "result.json")
	l := startChaosload(t, nil, "run", file, "--json", result)
	waiting := map[string]bool{}
	for _, f := range faults {
		waiting["fault applied: "+f] = true
	}
	for len(waiting) > 0 {
		line := l.waitLine(t, "fault applied: ")
		for w := range waiting {
			if strings.Contains(line, w) {
				delete(waiting, w)
			}
		}
	}
	children := childPIDs(l.cmd.Process.Pid)
	if before != nil {
		before()
	}
	code := l.interrupt(t)
	out, err := readResult(result)
	if err != nil {
		t.Fatalf("exit %d, no partial result: %v\n%s", code, err, l.stdout())
	}
	return code, children, out
}

// childPIDs lists the direct children of pid.
func childPIDs(pid int) []int {
	var pids []int
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, f := range tasks {
		data, _ := os.ReadFile(f)
		for _, s := range strings.Fields(string(data)) {
			if n, err := strconv.Atoi(s); err == nil {
				pids = append(pids, n)
			}
		}
	}
	return pids
}

func refusesConnections(t *testing.T, what, addr string) {
	t.Helper()
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("%s %s still accepts connections after the interrupt", what, addr)
	}
}

// TestInterruptHoldsNothing: SIGINT during a pool-exhaustion fault on an
// external PostgreSQL ends the run with 130, a partial result, no session of
// chaosload left in pg_stat_activity and no proxy listening.
func TestInterruptHoldsNothing(t *testing.T) {
	skipShort(t)
	ctx := context.Background()
	pg, err := demo.StartPostgres(ctx, demo.PostgresConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	t.Cleanup(api.Close)
	file := filepath.Join(t.TempDir(), "exhaust.yaml")
	exp := fmt.Sprintf(`version: 1
name: interrupt-me
targets:
  api: {upstream: "%s", protocol: http}
  postgres: {upstream: "%s", protocol: postgres, dsn: "%s"}
scenarios:
  users:
    executor: constant-arrival-rate
    rate: 50
    duration: 90s
    preAllocatedVUs: 10
    steps:
      - {name: get, http: {url: "http://${targets.api}/"}}
thresholds:
  errors: ["rate < 1%%"]
faults:
  - {name: exhaust, target: postgres, kind: pool-exhaustion, leaveFree: 1, startTime: 6s, duration: 30s}
  - {name: slow, target: api, kind: latency, latency: 50ms, startTime: 6s, duration: 30s}
`, api.Listener.Addr(), pg.Addr(), pg.DSN(demo.Superuser, demo.ShopDatabase))
	if err := os.WriteFile(file, []byte(exp), 0o644); err != nil {
		t.Fatal(err)
	}
	held := func() int {
		conn, err := pgx.Connect(ctx, pg.DSN(demo.Superuser, demo.ShopDatabase))
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		defer conn.Close(ctx)
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'chaosload%' AND pid <> pg_backend_pid()`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	code, _, out := interruptDuringFault(t, file, []string{"exhaust", "slow"}, func() {
		// The fault leaves one slot free (leaveFree: 1) for this check.
		if n := held(); n == 0 {
			t.Fatal("the fault held no PostgreSQL session: the test would prove nothing")
		}
	})
	if code != exitInterrupted || out.Verdict != runner.Interrupted || !out.Partial {
		t.Fatalf("exit %d verdict %s partial %v, want 130/interrupted/partial", code, out.Verdict, out.Partial)
	}
	for _, f := range out.Faults {
		if f.AppliedS != nil && (f.RevertedS == nil || f.Error != "") {
			t.Errorf("fault %s not reverted cleanly: %+v", f.Name, f)
		}
	}
	if n := held(); n != 0 {
		t.Fatalf("%d PostgreSQL sessions of chaosload remain", n)
	}
	for _, tg := range out.Targets {
		refusesConnections(t, "proxy "+tg.Name, tg.Listen)
	}
}

// TestInterruptStopsTheStack: SIGINT during the bundled experiment's fault
// stops every process the run started (PostgreSQL, Redis) and closes every
// listener (proxies, the demo service, the databases).
func TestInterruptStopsTheStack(t *testing.T) {
	file := filepath.Join(t.TempDir(), "db.yaml")
	data, err := os.ReadFile("../../experiments/db-exhaustion.yaml")
	if err != nil {
		t.Fatal(err)
	}
	short := strings.NewReplacer("startTime: 40s", "startTime: 8s").Replace(string(data))
	if err := os.WriteFile(file, []byte(short), 0o644); err != nil {
		t.Fatal(err)
	}
	code, children, out := interruptDuringFault(t, file, []string{"pg-connections-exhausted"}, nil)
	if code != exitInterrupted || out.Verdict != runner.Interrupted {
		t.Fatalf("exit %d verdict %s, want 130/interrupted", code, out.Verdict)
	}
	if len(children) < 2 {
		t.Fatalf("expected PostgreSQL and Redis among the run's children, got %v", children)
	}
	for _, pid := range children {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("child process %d still exists after the interrupt (%v)", pid, err)
		}
	}
	s := out.Stack
	for what, addr := range map[string]string{"demo service": s.API, "postgres": s.Postgres, "redis": s.Redis} {
		refusesConnections(t, what, addr)
	}
	for _, tg := range out.Targets {
		refusesConnections(t, "proxy "+tg.Name, tg.Listen)
	}
}
