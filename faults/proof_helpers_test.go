package faults_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/chaosload/chaosload/demo"
	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/proxy"
)

// The proofs of the fault catalogue: each fault carried out by a real proxy
// and seen by a real client (pgx against a throwaway PostgreSQL, go-redis
// against Redis, net/http against the demo service). They live here, as
// package faults_test, because package proxy must not import demo.

// One PostgreSQL cluster and one Redis serve every proof that does not need
// its own; started on first use, stopped after the last test. The proofs do
// not run in parallel: several change the servers' state.
var shared struct {
	once sync.Once
	pg   *demo.Postgres
	rd   *demo.Redis
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.pg != nil {
		shared.pg.Close()
	}
	if shared.rd != nil {
		shared.rd.Close()
	}
	if code == 0 {
		if err := goleak.Find(goRedisRedial); err != nil {
			fmt.Fprintln(os.Stderr, "goroutines leaked:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// servers returns the shared PostgreSQL and Redis, skipping the test when
// PostgreSQL is not installed (make deps installs it).
func servers(t testing.TB) (*demo.Postgres, *demo.Redis) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts PostgreSQL and Redis")
	}
	shared.once.Do(func() {
		ctx := context.Background()
		shared.pg, shared.err = demo.StartPostgres(ctx, demo.PostgresConfig{MaxConnections: 30})
		if shared.err != nil {
			return
		}
		shared.rd, shared.err = demo.StartRedis(ctx, demo.RedisConfig{})
	})
	if errors.Is(shared.err, demo.ErrPostgresNotInstalled) {
		t.Skip(shared.err)
	}
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.pg, shared.rd
}

// startProxy runs a proxy in front of upstream until the test ends.
func startProxy(t testing.TB, name, upstream string) *proxy.Proxy {
	t.Helper()
	return startProxyWith(t, proxy.Config{Name: name, Upstream: upstream, Seed: 1, Logger: zerolog.Nop()})
}

// startProxyWith runs a proxy of configuration cfg until the test ends.
func startProxyWith(t testing.TB, cfg proxy.Config) *proxy.Proxy {
	t.Helper()
	p, err := proxy.Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("proxy %s: %v", cfg.Name, err)
		}
	})
	return p
}

// inject applies spec on p at toxicity 1; the cleanup reverts it, the
// returned function reverts it earlier.
func inject(t testing.TB, p *proxy.Proxy, name string, spec faults.Spec) func() {
	t.Helper()
	undo, err := p.Inject(context.Background(), name, spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { undo(context.Background()) })
	return func() {
		if err := undo(context.Background()); err != nil {
			t.Errorf("revert %s: %v", name, err)
		}
	}
}

// pgConnect opens a pgx connection as the shop role through addr.
func pgConnect(ctx context.Context, pg *demo.Postgres, addr string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(demo.PostgresDSN(addr, demo.ShopRole, demo.ShopDatabase))
	if err != nil {
		return nil, err
	}
	cfg.ConnectTimeout = 30 * time.Second // only a hang takes this long
	return pgx.ConnectConfig(ctx, cfg)
}

func mustPG(t testing.TB, pg *demo.Postgres, addr string) *pgx.Conn {
	t.Helper()
	c, err := pgConnect(context.Background(), pg, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// newRedis is a go-redis client of one connection through addr.
func newRedis(t testing.TB, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 1, MaxRetries: -1,
		DialTimeout: 2 * time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second})
	t.Cleanup(func() { c.Close() })
	return c
}

// startService runs the demo service (graceful) on pg and rd directly.
func startService(t testing.TB, pg *demo.Postgres, rd *demo.Redis) *demo.Service {
	t.Helper()
	svc, err := demo.NewService(demo.ServiceConfig{Postgres: pg.Addr(), Redis: rd.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo service: %v", err)
		}
	})
	return svc
}

// httpGet does one GET and reads the body.
func httpGet(client *http.Client, url string) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

func quantile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1)+0.5)]
}

// goRedisRedial ignores go-redis's background redial: after five failed
// dials its pool retries once a second in a goroutine of its own, which
// sees the pool closed and ends at its next wake-up, up to a second after
// the client was closed (longer than goleak waits).
var goRedisRedial = goleak.IgnoreAnyFunction("github.com/redis/go-redis/v9/internal/pool.(*ConnPool).tryDial")
