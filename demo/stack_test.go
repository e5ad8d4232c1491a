package demo

import (
	"context"
	"errors"
	"net/http"
	"os"
	"testing"
	"time"
)

// TestStack proves StartStack wires the three parts directly, the service
// as a child process of its own, reports their addresses, and that Close
// stops every process it started and removes their files.
func TestStack(t *testing.T) {
	t.Parallel()
	sharedPostgres(t) // skips when PostgreSQL is not installed
	begin := time.Now()
	st, err := StartStack(context.Background(), StackConfig{Mode: ModeNaive, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("StartStack: %v", err)
	}
	t.Logf("stack started in %v", time.Since(begin).Round(time.Millisecond))
	t.Cleanup(func() { _ = st.Close() })

	a := st.Addrs()
	if a.API == "" || a.Postgres != st.Postgres().Addr() || a.Redis != st.Redis().Addr() {
		t.Fatalf("Addrs() = %+v", a)
	}
	if m := a.Map(); m["api"] != a.API || m["postgres"] != a.Postgres || m["redis"] != a.Redis {
		t.Errorf("Map() = %v", m)
	}
	c := newClient(t, a.API, 5*time.Second)
	if rep := c.get("/api/products"); rep.status != http.StatusOK {
		t.Fatalf("GET products: %v", rep)
	}
	if h := decode[health](t, c.get("/healthz")); h.Status != "ok" || h.Mode != ModeNaive {
		t.Errorf("healthz: %+v", h)
	}
	checkPoolCounters(t, st, c)

	svcPID := st.Service().PID()
	if svcPID == os.Getpid() || parentOf(t, svcPID) != os.Getpid() {
		t.Fatalf("service pid %d: want a child process of this one (%d)", svcPID, os.Getpid())
	}
	pgPID, redisPID, dir, log := st.Postgres().PID(), st.Redis().PID(), st.Postgres().DataDir(), st.Service().LogPath()
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	select {
	case <-st.Done():
	default:
		t.Error("Done not closed after Close")
	}
	processGone(t, svcPID)
	processGone(t, pgPID)
	if redisPID != 0 {
		processGone(t, redisPID)
	}
	for _, d := range []string{dir, log} {
		if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there after Close", d)
		}
	}
	if rep := c.get("/healthz"); rep.err == nil {
		t.Errorf("service still answering after Close: %v", rep)
	}
}

// checkPoolCounters: the pool counters the stack reads from the service
// count the acquire of an order placed between two readings.
func checkPoolCounters(t *testing.T, st *Stack, c *client) {
	t.Helper()
	before, _, _, err := st.PoolCounters(context.Background())
	if err != nil {
		t.Fatalf("PoolCounters: %v", err)
	}
	if rep := c.postOrder(1, 1); rep.status != http.StatusCreated {
		t.Fatalf("POST order: %v", rep)
	}
	after, waits, wait, err := st.PoolCounters(context.Background())
	if err != nil || after <= before || waits < 0 || wait < 0 {
		t.Fatalf("PoolCounters after an order: %d acquires (%d before), %d waits of %v, %v", after, before, waits, wait, err)
	}
}

// TestParseMode covers the mode names.
func TestParseMode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want Mode
		ok   bool
	}{
		{"", ModeGraceful, true},         // the default
		{"graceful", ModeGraceful, true}, // as in experiment files
		{"naive", ModeNaive, true},
		{"Naive", "", false}, // names are exact
		{"chaos", "", false},
	} {
		got, err := ParseMode(tc.in)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("ParseMode(%q) = %q, %v", tc.in, got, err)
		}
	}
}

// TestNewServiceValidates proves a service without dependencies is refused
// and that Close alone (without Run) releases it.
func TestNewServiceValidates(t *testing.T) {
	t.Parallel()
	if _, err := NewService(ServiceConfig{}); err == nil {
		t.Error("NewService without addresses succeeded")
	}
	if _, err := NewService(ServiceConfig{Mode: "chaos", Postgres: "127.0.0.1:1", Redis: "127.0.0.1:1"}); err == nil {
		t.Error("NewService with a bad mode succeeded")
	}
	svc, err := NewService(ServiceConfig{Postgres: "127.0.0.1:1", Redis: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := svc.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
