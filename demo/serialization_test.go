package demo

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/proxy"
)

// serializationProxy runs a chaosload proxy in front of pg whose pg-error
// fault answers a probability share of the service's order INSERTs with
// SQLSTATE 40001, as PostgreSQL does for a serialization failure.
func serializationProxy(t *testing.T, pg *Postgres, probability float64) *proxy.Proxy {
	t.Helper()
	p, err := proxy.Listen(proxy.Config{Name: "pg", Upstream: pg.Addr(), Seed: 1, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("proxy: %v", err)
		}
	})
	spec := faults.PGErrorSpec{Match: faults.Match{SQL: `(?i)^insert into orders`}, Probability: probability,
		SQLState: "40001", Message: "could not serialize access due to concurrent update"}
	undo, err := p.Inject(context.Background(), "serialization", spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = undo(context.Background()) })
	return p
}

// orderRows counts the rows of orders whose ids are in ids, read directly.
func orderRows(t *testing.T, pg *Postgres, ids []int64) int {
	t.Helper()
	c := connect(t, pg.DSN(Superuser, ShopDatabase))
	var n int
	if err := c.QueryRow(context.Background(), "SELECT count(*) FROM orders WHERE id = ANY($1)", ids).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSerializationFailures proves, through a real 40001 ErrorResponse
// from a pg-error fault on a proxy between the service and PostgreSQL,
// that graceful mode retries the order transaction (the client sees 201,
// each acknowledged order is in the table once) while naive mode surfaces
// every injected error as a 500 naming SQLSTATE 40001.
func TestSerializationFailures(t *testing.T) {
	pg := sharedPostgres(t)
	const orders = 80
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			p := serializationProxy(t, pg, 0.3)
			r := startRedis(t, RedisConfig{})
			svc := startService(t, ServiceConfig{Mode: mode, Postgres: p.Addr(), Redis: r.Addr()})
			c := newClient(t, svc.Addr(), 5*time.Second)
			statuses := map[int]int{}
			var ids []int64
			for range orders {
				rep := c.postOrder(1, 1)
				if rep.err != nil {
					t.Fatalf("POST order: %v", rep)
				}
				statuses[rep.status]++
				if rep.status != http.StatusCreated {
					t.Logf("order failed: %v", rep)
				}
				switch {
				case rep.status == http.StatusCreated:
					ids = append(ids, decode[order](t, rep).ID)
				case rep.status == http.StatusInternalServerError && !strings.Contains(rep.body, "40001"):
					t.Errorf("500 not naming SQLSTATE 40001: %v", rep)
				}
			}
			injected := p.Stats().Faults["serialization"].RequestsErrored
			t.Logf("%s: statuses %v, 40001 injected %d", mode, statuses, injected)
			if injected < orders/10 {
				t.Fatalf("only %d errors injected into %d orders at 30%%", injected, orders)
			}
			if rows := orderRows(t, pg, ids); rows != len(ids) {
				t.Errorf("%d orders acknowledged, %d of them in the table", len(ids), rows)
			}
			switch mode {
			case ModeGraceful:
				// Five attempts: a request fails only when all five drew
				// the error (0.3^5, 0.25 %), and then with a 503; allow
				// two of 80.
				if statuses[http.StatusInternalServerError] > 0 || statuses[http.StatusCreated] < orders-2 {
					t.Errorf("graceful: %d of %d orders created (%v), want the retries to hide the errors", statuses[http.StatusCreated], orders, statuses)
				}
			case ModeNaive:
				if int64(statuses[http.StatusInternalServerError]) != injected || statuses[http.StatusCreated] != orders-int(injected) {
					t.Errorf("naive: %v for %d injected errors, want one 500 per injected error", statuses, injected)
				}
			}
		})
	}
}

// TestSerializationRetryBounded: when every attempt fails, graceful mode
// gives up after serializationAttempts (the proxy counts exactly that many
// injected errors) and answers 503 with Retry-After (the conflict is
// transient), never 500; other requests are unaffected.
func TestSerializationRetryBounded(t *testing.T) {
	pg := sharedPostgres(t)
	p := serializationProxy(t, pg, 1)
	r := startRedis(t, RedisConfig{})
	svc := startService(t, ServiceConfig{Mode: ModeGraceful, Postgres: p.Addr(), Redis: r.Addr()})
	c := newClient(t, svc.Addr(), 5*time.Second)
	rep := c.postOrder(1, 1)
	if rep.status != http.StatusServiceUnavailable || rep.header.Get("Retry-After") == "" {
		t.Fatalf("POST order with every attempt failing: %v, want 503 with Retry-After", rep)
	}
	if got := p.Stats().Faults["serialization"].RequestsErrored; got != serializationAttempts {
		t.Errorf("%d attempts reached the proxy, want %d", got, serializationAttempts)
	}
	if rep := c.get("/api/products"); rep.status != http.StatusOK {
		t.Errorf("GET products during the fault: %v", rep)
	}
}
