package demo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestDatabaseOutage proves the two modes differ when PostgreSQL becomes
// unreachable (every connection reset, new ones refused or black-holed):
// graceful answers products from the stale cache and orders with a 503 and
// Retry-After, never hanging, and recovers by itself; naive answers 500 or
// hangs.
func TestDatabaseOutage(t *testing.T) {
	pg := sharedPostgres(t)
	for _, tc := range []struct {
		name string
		mode linkMode
	}{
		{"refused", linkRefuse},      // like a proxy resetting every connection, or a server gone
		{"blackhole", linkBlackhole}, // like a network partition: nothing answers
	} {
		for _, mode := range modes {
			t.Run(tc.name+"/"+string(mode), func(t *testing.T) {
				r := startRedis(t, RedisConfig{})
				l := newLink(t, pg.Addr())
				svc := startService(t, ServiceConfig{Mode: mode, Postgres: l.addr(), Redis: r.Addr(), CacheTTL: 50 * time.Millisecond})
				// Lift the fault before the service stops: pgx sends a cancel
				// request for each broken connection and, black-holed, waits
				// 15 s for it when the pool closes.
				t.Cleanup(func() { l.setMode(linkPass); l.resetAll() })
				c := newClient(t, svc.Addr(), clientTimeout(mode))
				warmUp(t, c)

				l.setMode(tc.mode)
				l.resetAll()
				time.Sleep(60 * time.Millisecond) // the fresh cached copy expires

				switch mode {
				case ModeGraceful:
					products, orderRep := c.get("/api/products"), c.postOrder(1, 1)
					expectStatus(t, "GET products", products, http.StatusOK)
					if src := products.header.Get("X-Cache"); src != "stale" {
						t.Errorf("GET products: X-Cache %q, want stale", src)
					}
					expectStatus(t, "POST order", orderRep, http.StatusServiceUnavailable)
					if orderRep.header.Get("Retry-After") == "" {
						t.Error("503 without Retry-After")
					}
					expectStatus(t, "GET order", c.get("/api/orders/1"), http.StatusServiceUnavailable)

					l.setMode(linkPass)
					t.Logf("recovered %v after the database came back", recoveryTime(t, c))
				case ModeNaive:
					// The first requests fail on the pool's dead connections
					// (500); then a new connection is refused (500) or never
					// answered (the request hangs until the client gives up).
					hung := false
					for i := range 4 {
						rep := c.get("/api/products")
						if i%2 == 1 {
							rep = c.postOrder(1, 1)
						}
						t.Logf("request %d: %v", i+1, rep)
						if rep.status != http.StatusInternalServerError && !rep.timeout {
							t.Errorf("%v, want 500 or a client timeout (a hang)", rep)
						}
						hung = hung || rep.timeout
					}
					if tc.mode == linkBlackhole && !hung {
						t.Error("no request hung on the black-holed database")
					}
				}
			})
		}
	}
}

// TestDatabaseExhaustion is the scenario of experiments/db-exhaustion.yaml
// on a real server: every free connection slot is taken by the superuser
// and the service's connections are reset at the same moment, so the
// service can only reconnect into a full server (53300). Graceful answers a
// burst of browse and order requests with 200 (cache) and 503s, never a
// 500, and is back to 201 once the slots are released (how fast is
// logged); naive answers 500s.
func TestDatabaseExhaustion(t *testing.T) {
	pg := sharedPostgres(t)
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			r := startRedis(t, RedisConfig{})
			l := newLink(t, pg.Addr())
			svc := startService(t, ServiceConfig{Mode: mode, Postgres: l.addr(), Redis: r.Addr(), CacheTTL: 50 * time.Millisecond})
			c := newClient(t, svc.Addr(), clientTimeout(mode))
			warmUp(t, c)

			slots := exhaust(t, pg)
			l.resetAll()
			slots.topUp(t)
			time.Sleep(60 * time.Millisecond) // the fresh cached copy expires

			counts, slowest := burst(c, 20)
			t.Logf("during exhaustion (%d slots held): %v, slowest %v", len(slots.conns), counts, slowest)
			switch mode {
			case ModeGraceful:
				if counts["GET 200"] != 20 || counts["POST 503"] != 20 {
					t.Errorf("want every GET 200 and every POST 503")
				}
				slots.release()
				t.Logf("recovered %v after the slots were released", recoveryTime(t, c))
			case ModeNaive:
				if counts["GET 500"]+counts["POST 500"] == 0 {
					t.Errorf("want 500s")
				}
			}
		})
	}
}

// warmUp fills the service's pool and cache the way steady load does. It
// tries a few times: on a starved machine graceful mode may shed the first
// requests while it opens connections.
func warmUp(t *testing.T, c *client) {
	t.Helper()
	var counts map[string]int
	for range 5 {
		if counts, _ = burst(c, 8); counts["GET 200"] == 8 && counts["POST 201"] == 8 {
			return
		}
	}
	t.Fatalf("warm-up: %v, want every request to succeed", counts)
}

// burst sends n product reads and n orders at once and counts the
// outcomes as "METHOD STATUS" (or "METHOD timeout").
func burst(c *client, n int) (map[string]int, time.Duration) {
	var mu sync.Mutex
	counts := map[string]int{}
	var slowest time.Duration
	var wg sync.WaitGroup
	for i := range 2 * n {
		wg.Go(func() {
			var rep reply
			method := "GET"
			if i%2 == 0 {
				rep = c.get("/api/products")
			} else {
				method, rep = "POST", c.postOrder(1, 1)
			}
			key := fmt.Sprintf("%s %d", method, rep.status)
			if rep.err != nil {
				key = method + " error"
			}
			mu.Lock()
			defer mu.Unlock()
			counts[key]++
			slowest = max(slowest, rep.took)
		})
	}
	wg.Wait()
	return counts, slowest
}

// clientTimeout is how long the tests' client waits for an answer. In
// graceful mode the service must answer whatever its dependencies do: a
// request that has no answer after 10 s hangs (the service's own timeouts
// are a fraction of that; how fast it sheds is printed, not judged). In
// naive mode a hang is an expected outcome, seen sooner at 1 s.
func clientTimeout(mode Mode) time.Duration {
	if mode == ModeGraceful {
		return 10 * time.Second
	}
	return time.Second
}

func expectStatus(t *testing.T, what string, rep reply, status int) {
	t.Helper()
	if rep.status != status {
		t.Errorf("%s: %v, want %d", what, rep, status)
	}
}

// recoveryTime polls with orders until one is created, and fails the test
// when none is within 30 s (a service that never recovers).
func recoveryTime(t *testing.T, c *client) time.Duration {
	t.Helper()
	const bound = 30 * time.Second
	begin := time.Now()
	for time.Since(begin) < bound {
		if rep := c.postOrder(1, 1); rep.status == http.StatusCreated {
			return time.Since(begin)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("not recovered within %v", bound)
	return 0
}

// slotHolder holds superuser connections that fill a server's slots.
type slotHolder struct {
	pg    *Postgres
	conns []*pgconn.PgConn
}

// exhaust takes every free connection slot as the superuser, as the
// pool-exhaustion fault does, and releases them at cleanup.
func exhaust(t *testing.T, pg *Postgres) *slotHolder {
	t.Helper()
	h := &slotHolder{pg: pg}
	t.Cleanup(h.release)
	if n := h.fill(t); n == 0 {
		t.Fatal("no free slot to take")
	}
	return h
}

// fill opens connections until the server answers 53300; it returns how
// many it opened.
func (h *slotHolder) fill(t *testing.T) int {
	t.Helper()
	ctx := context.Background()
	for n := 0; n <= h.pg.MaxConnections(); n++ {
		conn, err := pgconn.Connect(ctx, h.pg.DSN(Superuser, ShopDatabase))
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "53300" {
			return n
		}
		if err != nil {
			t.Fatalf("take a slot: %v", err)
		}
		h.conns = append(h.conns, conn)
	}
	t.Fatalf("server accepted more than max_connections (%d)", h.pg.MaxConnections())
	return 0
}

// topUp takes the slots the service's reset connections free, once their
// backends have exited.
func (h *slotHolder) topUp(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		h.fill(t)
		res := h.conns[0].ExecParams(context.Background(),
			"SELECT count(*) FROM pg_stat_activity WHERE usename = $1", [][]byte{[]byte(ShopRole)}, nil, nil, nil).Read()
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		if string(res.Rows[0][0]) == "0" {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the service's backends did not exit within 30 s of the reset")
}

func (h *slotHolder) release() {
	for _, c := range h.conns {
		_ = c.Close(context.Background())
	}
	h.conns = nil
}

// TestProductsWhenDatabaseAndCacheFail: graceful mode still serves the
// product list when PostgreSQL is unreachable and Redis fails too (as its
// 200 ms bound and breaker make a slow Redis on a loaded host): the copy
// the process last read, marked stale-local. Orders are 503.
func TestProductsWhenDatabaseAndCacheFail(t *testing.T) {
	pg := sharedPostgres(t)
	r := startRedis(t, RedisConfig{})
	pgLink, redisLink := newLink(t, pg.Addr()), newLink(t, r.Addr())
	svc := startService(t, ServiceConfig{Mode: ModeGraceful, Postgres: pgLink.addr(), Redis: redisLink.addr(), CacheTTL: 50 * time.Millisecond})
	t.Cleanup(func() { pgLink.setMode(linkPass); pgLink.resetAll() })
	c := newClient(t, svc.Addr(), clientTimeout(ModeGraceful))
	warmUp(t, c)

	for _, l := range []*link{pgLink, redisLink} {
		l.setMode(linkRefuse)
		l.resetAll()
	}
	for i := range 5 { // the breaker opens after three Redis failures; each request must be served
		products := c.get("/api/products")
		expectStatus(t, fmt.Sprintf("GET products %d", i+1), products, http.StatusOK)
		if src := products.header.Get("X-Cache"); src != "stale-local" {
			t.Errorf("GET products %d: X-Cache %q, want stale-local", i+1, src)
		}
	}
	expectStatus(t, "POST order", c.postOrder(1, 1), http.StatusServiceUnavailable)
}
