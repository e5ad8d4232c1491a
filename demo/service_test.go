package demo

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

var modes = []Mode{ModeGraceful, ModeNaive}

// TestServiceOrders proves the order endpoints in both modes: an
// acknowledged order is committed, and bad requests get 4xx, not 5xx.
func TestServiceOrders(t *testing.T) {
	pg := sharedPostgres(t)
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			r := startRedis(t, RedisConfig{})
			svc := startService(t, ServiceConfig{Mode: mode, Postgres: pg.Addr(), Redis: r.Addr()})
			c := newClient(t, svc.Addr(), 5*time.Second)

			rep := c.postOrder(2, 3)
			if rep.status != http.StatusCreated {
				t.Fatalf("POST /api/orders: %v, want 201", rep)
			}
			o := decode[order](t, rep)
			if o.ID <= 0 || o.Product != 2 || o.Qty != 3 {
				t.Fatalf("created %+v, want an id, product 2, qty 3", o)
			}
			if loc := rep.header.Get("Location"); loc != "/api/orders/"+strconv.FormatInt(o.ID, 10) {
				t.Errorf("Location = %q", loc)
			}
			// Acknowledged means committed: another session sees the row.
			var qty int
			conn := connect(t, pg.DSN(Superuser, ShopDatabase))
			if err := conn.QueryRow(context.Background(), "SELECT qty FROM orders WHERE id = $1", o.ID).Scan(&qty); err != nil || qty != 3 {
				t.Fatalf("order %d in the table: qty %d, err %v", o.ID, qty, err)
			}
			rep = c.get("/api/orders/" + strconv.FormatInt(o.ID, 10))
			if got := decode[order](t, rep); rep.status != http.StatusOK || got.ID != o.ID || got.Qty != 3 {
				t.Fatalf("GET order: %v", rep)
			}

			for _, tc := range []struct {
				name         string
				method, path string
				body         string
				want         int
			}{
				{"absent order", "GET", "/api/orders/999999999", "", http.StatusNotFound},
				{"non-numeric id", "GET", "/api/orders/abc", "", http.StatusBadRequest},
				{"malformed JSON", "POST", "/api/orders", "{", http.StatusBadRequest},
				{"negative qty", "POST", "/api/orders", `{"product": 1, "qty": -1}`, http.StatusBadRequest},
				{"unknown product (foreign key)", "POST", "/api/orders", `{"product": 999, "qty": 1}`, http.StatusUnprocessableEntity},
				{"qty defaults to 1", "POST", "/api/orders", `{"product": 1}`, http.StatusCreated},
				{"wrong method", "DELETE", "/api/orders", "", http.StatusMethodNotAllowed},
				{"unknown path", "GET", "/api/nope", "", http.StatusNotFound},
			} {
				if rep := c.do(tc.method, tc.path, tc.body); rep.status != tc.want {
					t.Errorf("%s: %s %s: %v, want %d", tc.name, tc.method, tc.path, rep, tc.want)
				}
			}

			rep, h := c.healthy()
			if rep.status != http.StatusOK || h.Status != "ok" || h.Mode != mode || !h.Postgres.OK || !h.Redis.OK {
				t.Errorf("healthz: %v", rep)
			}
		})
	}
}

// TestServiceProductsCached proves product reads are served from Redis:
// a change in PostgreSQL is not seen until the cached copy goes.
func TestServiceProductsCached(t *testing.T) {
	pg := sharedPostgres(t)
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			r := startRedis(t, RedisConfig{})
			svc := startService(t, ServiceConfig{Mode: mode, Postgres: pg.Addr(), Redis: r.Addr()})
			c := newClient(t, svc.Addr(), 5*time.Second)
			rdb := redis.NewClient(&redis.Options{Addr: r.Addr()})
			t.Cleanup(func() { rdb.Close() })
			ctx := context.Background()

			first := c.get("/api/products")
			if first.status != http.StatusOK || first.header.Get("X-Cache") != "miss" {
				t.Fatalf("first GET: %v (X-Cache %q), want 200 miss", first, first.header.Get("X-Cache"))
			}
			if list := decode[[]product](t, first); len(list) != 5 || list[0].Name != "Chaos monkey plush" {
				t.Fatalf("products: %v", first)
			}
			if ttl := rdb.TTL(ctx, productsKey).Val(); ttl <= 0 || ttl > 5*time.Second {
				t.Errorf("TTL of %s = %v, want (0, 5s]", productsKey, ttl)
			}
			staleKept := rdb.Exists(ctx, productsStaleKey).Val() == 1
			if staleKept != (mode == ModeGraceful) {
				t.Errorf("stale copy kept = %v; want it in graceful mode only", staleKept)
			}

			conn := connect(t, pg.DSN(ShopRole, ShopDatabase))
			rename := func(name string) {
				if _, err := conn.Exec(ctx, "UPDATE products SET name = $1 WHERE id = 1", name); err != nil {
					t.Fatal(err)
				}
			}
			rename("Renamed in PostgreSQL")
			t.Cleanup(func() { rename("Chaos monkey plush") })

			second := c.get("/api/products")
			if second.header.Get("X-Cache") != "hit" || second.body != first.body {
				t.Fatalf("second GET: %v (X-Cache %q), want the cached copy", second, second.header.Get("X-Cache"))
			}
			if err := rdb.Del(ctx, productsKey).Err(); err != nil {
				t.Fatal(err)
			}
			third := c.get("/api/products")
			if third.header.Get("X-Cache") != "miss" || !strings.Contains(third.body, "Renamed in PostgreSQL") {
				t.Fatalf("after the cache entry went: %v (X-Cache %q), want PostgreSQL's data", third, third.header.Get("X-Cache"))
			}
		})
	}
}

// TestServiceRedisOutage proves graceful mode never fails a request
// PostgreSQL can serve because Redis fails, and stays fast while Redis is
// refused or black-holed; naive mode fails or hangs.
func TestServiceRedisOutage(t *testing.T) {
	pg := sharedPostgres(t)
	for _, tc := range []struct {
		name string
		mode linkMode
	}{
		{"refused", linkRefuse},      // connections reset at once
		{"blackhole", linkBlackhole}, // connections accepted, never answered
	} {
		for _, mode := range modes {
			t.Run(tc.name+"/"+string(mode), func(t *testing.T) {
				r := startRedis(t, RedisConfig{})
				l := newLink(t, r.Addr())
				l.setMode(tc.mode)
				svc := startService(t, ServiceConfig{Mode: mode, Postgres: pg.Addr(), Redis: l.addr()})
				c := newClient(t, svc.Addr(), clientTimeout(mode))

				var slowest time.Duration
				for range 10 {
					rep := c.get("/api/products")
					slowest = max(slowest, rep.took)
					switch mode {
					case ModeGraceful:
						if rep.status != http.StatusOK {
							t.Fatalf("GET products with Redis %s: %v, want 200", tc.name, rep)
						}
					case ModeNaive:
						if rep.status != http.StatusInternalServerError && !rep.timeout {
							t.Fatalf("GET products with Redis %s: %v, want 500 or a client timeout", tc.name, rep)
						}
						return // one failure proves it; more would only slow the test
					}
				}
				t.Logf("slowest products request: %v", slowest)
				if rep := c.postOrder(1, 1); rep.status != http.StatusCreated {
					t.Errorf("POST order (no Redis involved) with Redis %s: %v, want 201", tc.name, rep)
				}
			})
		}
	}
}

// TestServiceInProcessRedis proves the service works against the
// in-process Redis fallback, caching included.
func TestServiceInProcessRedis(t *testing.T) {
	pg := sharedPostgres(t)
	r := startRedis(t, RedisConfig{InProcess: true})
	svc := startService(t, ServiceConfig{Postgres: pg.Addr(), Redis: r.Addr()})
	c := newClient(t, svc.Addr(), 5*time.Second)
	if rep := c.get("/api/products"); rep.status != http.StatusOK || rep.header.Get("X-Cache") != "miss" {
		t.Fatalf("first GET products: %v (X-Cache %q), want 200 miss", rep, rep.header.Get("X-Cache"))
	}
	if rep := c.get("/api/products"); rep.status != http.StatusOK || rep.header.Get("X-Cache") != "hit" {
		t.Fatalf("second GET products: %v (X-Cache %q), want 200 hit", rep, rep.header.Get("X-Cache"))
	}
	if rep, h := c.healthy(); h.Status != "ok" || !h.Redis.OK {
		t.Errorf("healthz: %v", rep)
	}
}
