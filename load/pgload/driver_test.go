package pgload_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chaosload/chaosload/demo"
	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/load/pgload"
)

// TestQueryAndExec: a query reads its rows (bytes counted), an exec
// writes, and the write is there afterwards.
func TestQueryAndExec(t *testing.T) {
	t.Parallel()
	pg := sharedPostgres(t)
	d := newDriver(t)
	vu := newVU(nil)
	q := do(d, vu, pgStep("products", load.PGStatement{DSN: shopDSN(pg), Query: "SELECT name FROM products WHERE id <= $1", Args: []any{3}}))
	if !q.OK() || q.BytesIn != int64(len("Chaos monkey plush")+len("Circuit breaker")+len("Retry budget")) {
		t.Fatalf("query: class %q (%v), %d bytes", q.Class, q.Err, q.BytesIn)
	}
	e := do(d, vu, pgStep("order", load.PGStatement{DSN: shopDSN(pg), Exec: "INSERT INTO orders (product_id, qty) VALUES ($1, $2)", Args: []any{2, 41}}))
	if !e.OK() {
		t.Fatalf("exec: class %q (%v)", e.Class, e.Err)
	}
	conn, err := pgx.Connect(context.Background(), shopDSN(pg))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM orders WHERE product_id = 2 AND qty = 41").Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d orders written (%v), want 1", n, err)
	}
}

// TestSQLStateClasses: an error PostgreSQL answers with is classed by its
// SQLSTATE.
func TestSQLStateClasses(t *testing.T) {
	t.Parallel()
	pg := sharedPostgres(t)
	d := newDriver(t)
	tests := []struct {
		name  string
		st    load.PGStatement
		class string
	}{
		// a syntax error: 42601
		{"syntax", load.PGStatement{Query: "SELEC 1"}, "pg_42601"},
		// no such table: 42P01
		{"undefined table", load.PGStatement{Query: "SELECT * FROM nope"}, "pg_42P01"},
		// a foreign key violated: 23503
		{"foreign key", load.PGStatement{Exec: "INSERT INTO orders (product_id, qty) VALUES (999, 1)"}, "pg_23503"},
		// statement_timeout (a connection parameter) cancels the statement: 57014
		{"statement timeout", load.PGStatement{DSN: shopDSN(pg) + "&statement_timeout=100", Query: "SELECT pg_sleep(5)"}, "pg_57014"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.st.DSN == "" {
				tt.st.DSN = shopDSN(pg)
			}
			r := do(d, newVU(nil), pgStep(tt.name, tt.st))
			if r.Class != tt.class {
				t.Fatalf("class %q (%v), want %s", r.Class, r.Err, tt.class)
			}
		})
	}
}

// TestTooManyConnections: with every connection slot the shop role may use
// taken, the pool's next connect is refused by the server with 53300,
// which is the step's class.
func TestTooManyConnections(t *testing.T) {
	t.Parallel()
	pg := startPostgres(t, demo.PostgresConfig{MaxConnections: 6, SuperuserReserved: 3})
	for range pg.MaxConnections() - pg.SuperuserReserved() {
		c := holdSlot(t, shopDSN(pg))
		t.Cleanup(func() { c.Close(context.Background()) })
	}
	r := do(newDriver(t), newVU(nil), pgStep("q", load.PGStatement{DSN: shopDSN(pg), Query: "SELECT 1"}))
	if r.Class != "pg_53300" {
		t.Fatalf("class %q (%v), want pg_53300", r.Class, r.Err)
	}
}

// holdSlot connects to dsn. A backend whose client just left (the demo's
// setup connections) frees its slot a moment later, so 53300 is retried
// until it is free (30 s without a free slot is a hang).
func holdSlot(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := pgx.Connect(context.Background(), dsn)
		if err == nil {
			return c
		}
		if !strings.Contains(err.Error(), "53300") || time.Now().After(deadline) {
			t.Fatalf("hold a slot: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestTransportClasses: nothing listening is conn_refused; a statement
// longer than the step's timeout is a timeout, cut at the timeout (one not
// cut would end after its 5 s as a success).
func TestTransportClasses(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := demo.PostgresDSN(ln.Addr().String(), demo.ShopRole, demo.ShopDatabase)
	ln.Close()
	d := newDriver(t)
	if r := do(d, newVU(nil), pgStep("q", load.PGStatement{DSN: dead, Query: "SELECT 1"})); r.Class != load.ClassConnRefused || r.NewConns != 0 {
		t.Errorf("class %q conns %d (%v), want conn_refused and no connection", r.Class, r.NewConns, r.Err)
	}
	pg := sharedPostgres(t)
	r := do(d, newVU(nil), pgStep("slow", load.PGStatement{DSN: shopDSN(pg), Query: "SELECT pg_sleep(5)", Timeout: 200 * time.Millisecond}))
	if r.Class != load.ClassTimeout {
		t.Fatalf("class %q (%v), want timeout", r.Class, r.Err)
	}
	if took := r.End - r.Intended; took < 200*time.Millisecond {
		t.Errorf("took %v, want at least the 200ms timeout", took)
	}
}

// TestPoolPerScenario: steps of one scenario on one DSN share a pool (the
// second connects nothing), another scenario has its own; NewConns says
// when a statement needed a new connection.
func TestPoolPerScenario(t *testing.T) {
	t.Parallel()
	pg := sharedPostgres(t)
	d := newDriver(t)
	a := pgStep("a", load.PGStatement{DSN: shopDSN(pg), Query: "SELECT 1"})
	b := pgStep("b", load.PGStatement{DSN: shopDSN(pg), Query: "SELECT 2", PoolSize: 3})
	shop := &load.Scenario{Name: "shop", Steps: []load.Step{*a, *b}}
	other := &load.Scenario{Name: "other", Steps: []load.Step{*a}}
	for _, tt := range []struct {
		sc    *load.Scenario
		step  *load.Step
		conns int
	}{
		{shop, a, 1},  // the scenario's pool connects
		{shop, b, 0},  // the same pool, its idle connection reused
		{shop, a, 0},  // and again
		{other, a, 1}, // another scenario, another pool
	} {
		r := do(d, newVU(tt.sc), tt.step)
		if !r.OK() || r.NewConns != tt.conns {
			t.Fatalf("%s/%s: class %q (%v) conns %d, want %d", tt.sc.Name, tt.step.Name, r.Class, r.Err, r.NewConns, tt.conns)
		}
	}
}

// TestStartWhenConnected: with the pool's one connection busy, a statement
// waits for it; Start is when it got it, so the wait is dispatch lag, and
// the pool size (the largest of the scenario's steps) is honoured. The busy
// statement waits for an advisory lock the test holds, so the order of
// events does not depend on the machine's speed.
func TestStartWhenConnected(t *testing.T) {
	t.Parallel()
	pg := sharedPostgres(t)
	ctx := context.Background()
	admin := holdSlot(t, shopDSN(pg))
	defer admin.Close(ctx)
	const key = 7204 // the advisory lock the busy statement waits for
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		t.Fatal(err)
	}
	d := newDriver(t)
	slow := pgStep("slow", load.PGStatement{DSN: shopDSN(pg), Query: fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", key), PoolSize: 1})
	fast := pgStep("fast", load.PGStatement{DSN: shopDSN(pg), Query: "SELECT 1"})
	sc := &load.Scenario{Name: "s", Steps: []load.Step{*slow, *fast}}
	vu1, vu2 := newVU(sc), newVU(sc)
	vu2.Clock = vu1.Clock
	var first load.Result
	var wg sync.WaitGroup
	wg.Go(func() { first = do(d, vu1, slow) })
	waitLockWaiters(t, admin, key, 1) // the busy statement holds the pool's one connection
	// Released a little later, so that the fast statement is (most likely)
	// waiting for the connection by then; what is asserted holds either way.
	released := make(chan time.Duration, 1)
	time.AfterFunc(200*time.Millisecond, func() {
		at := vu1.Clock.Now()
		if _, err := admin.Exec(ctx, "SELECT pg_advisory_unlock($1)", key); err != nil {
			t.Error(err)
		}
		released <- at
	})
	second := do(d, vu2, fast)
	wg.Wait()
	releasedAt := <-released // the busy statement ended only after the release
	if !first.OK() || !second.OK() {
		t.Fatalf("failed: %v %v", first.Err, second.Err)
	}
	if second.Start < releasedAt || second.DispatchLag() < releasedAt-second.Intended || second.NewConns != 0 {
		t.Errorf("second: sent at %v, dispatch lag %v, conns %d; want it sent on the one connection once the lock was released at %v, the wait in its dispatch lag",
			second.Start, second.DispatchLag(), second.NewConns, releasedAt)
	}
}

// waitLockWaiters waits until n sessions wait for the advisory lock key.
func waitLockWaiters(t *testing.T, admin *pgx.Conn, key, n int) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		var waiting int
		err := admin.QueryRow(context.Background(),
			"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND NOT granted", key).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		if waiting == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions wait for advisory lock %d after 30s, want %d", waiting, key, n)
		}
	}
}

// TestBadStatements fail as class error without connecting.
func TestBadStatements(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	for _, step := range []*load.Step{
		{Name: "no pg"},
		pgStep("both", load.PGStatement{DSN: "postgres://x@127.0.0.1:1/x", Query: "SELECT 1", Exec: "SELECT 1"}),
		pgStep("neither", load.PGStatement{DSN: "postgres://x@127.0.0.1:1/x"}),
		pgStep("bad dsn", load.PGStatement{DSN: "postgres://%zz", Query: "SELECT 1"}),
	} {
		if r := do(d, newVU(nil), step); r.Class != load.ClassOther || r.Err == nil {
			t.Errorf("%s: class %q err %v, want class error", step.Name, r.Class, r.Err)
		}
	}
	d.Close()
	r := do(d, newVU(nil), pgStep("closed", load.PGStatement{DSN: "postgres://x@127.0.0.1:1/x", Query: "SELECT 1"}))
	if r.Class != load.ClassOther || !strings.Contains(r.Err.Error(), "closed") {
		t.Errorf("after Close: class %q err %v", r.Class, r.Err)
	}
}

// TestClassOf: the classes of errors without a server.
func TestClassOf(t *testing.T) {
	t.Parallel()
	if got := pgload.ClassOf(nil); got != "" {
		t.Errorf("nil: %q", got)
	}
	if got := pgload.ClassOf(context.DeadlineExceeded); got != load.ClassTimeout {
		t.Errorf("deadline: %q", got)
	}
}
