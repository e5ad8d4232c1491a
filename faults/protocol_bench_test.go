//go:build manual

// A manual measuring tool, not a test: `go test ./...` does not build it,
// so the suite skips nothing. Run it with: make bench (CHAOSLOAD_BENCH_PROTOCOL=1 go test -tags manual -run TestProtocolPassThroughRatio -v ./faults/)

package faults_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/chaosload/chaosload/demo"
	"github.com/chaosload/chaosload/faults"
)

// The protocol-aware pass-through benchmark: what parsing every request
// costs a proxy that carries a protocol fault. Throughput through a
// proxy whose protocol fault is active but matches nothing (so the parser
// reads every request and response) against a plain proxy (TCP copy, no
// fault), on pgbench-style select-only load and on Redis GET/SET. Target:
// ratio ≥ 0.7. It prints figures rather than asserting them (the machine is
// shared); `make bench` runs it with CHAOSLOAD_BENCH_PROTOCOL=1.

const (
	benchWorkers  = 8               // concurrent clients, one connection each
	benchRound    = 2 * time.Second // one measurement
	benchRounds   = 5               // per path, interleaved; the medians are kept
	benchAccounts = 100000          // rows of pgbench_accounts
)

// benchPath is one way to the server: direct, plain proxy, protocol proxy.
type benchPath struct {
	name string
	addr string
	rate []float64 // ops/s of each round
}

func (p *benchPath) median() float64 {
	s := slices.Clone(p.rate)
	slices.Sort(s)
	return s[len(s)/2]
}

// TestProtocolPassThroughRatio measures and prints the ratios; skipped
// unless CHAOSLOAD_BENCH_PROTOCOL is set.
func TestProtocolPassThroughRatio(t *testing.T) {
	if os.Getenv("CHAOSLOAD_BENCH_PROTOCOL") == "" {
		t.Skip("a benchmark: set CHAOSLOAD_BENCH_PROTOCOL=1 (make bench)")
	}
	pg, rd := servers(t)
	t.Run("postgres", func(t *testing.T) {
		setupAccounts(t, pg)
		plain := startProxy(t, "pg-plain", pg.Addr())
		aware := startProxy(t, "pg-aware", pg.Addr())
		inject(t, aware, "never", faults.PGErrorSpec{Match: faults.Match{SQL: `^NEVER MATCHES`}, Probability: 1, SQLState: "40001"})
		paths := []*benchPath{{name: "direct", addr: pg.Addr()}, {name: "plain proxy", addr: plain.Addr()}, {name: "protocol-aware proxy", addr: aware.Addr()}}
		measure(t, "postgres select-only (SELECT abalance FROM pgbench_accounts WHERE aid = $1)", paths, func(addr string) func(context.Context) error {
			return pgWorkload(t, pg, addr)
		})
		if n := aware.Stats().Faults["never"].RequestsErrored; n != 0 {
			t.Errorf("the non-matching fault injected %d errors", n)
		}
	})
	t.Run("redis", func(t *testing.T) {
		plain := startProxy(t, "redis-plain", rd.Addr())
		aware := startProxy(t, "redis-aware", rd.Addr())
		inject(t, aware, "never", faults.RedisErrorSpec{Match: faults.Match{Command: "GET", Key: "never:*"}, Probability: 1, Message: "ERR never"})
		paths := []*benchPath{{name: "direct", addr: rd.Addr()}, {name: "plain proxy", addr: plain.Addr()}, {name: "protocol-aware proxy", addr: aware.Addr()}}
		measure(t, "redis GET/SET (one of each per op pair, 100-byte values)", paths, func(addr string) func(context.Context) error {
			return redisWorkload(t, addr)
		})
	})
}

// setupAccounts creates pgbench_accounts (aid, abalance) as pgbench -i
// would, with benchAccounts rows, readable by the shop role.
func setupAccounts(t *testing.T, pg *demo.Postgres) {
	t.Helper()
	c := mustPG(t, pg, pg.Addr())
	ctx := context.Background()
	for _, q := range []string{
		"DROP TABLE IF EXISTS pgbench_accounts",
		"CREATE TABLE pgbench_accounts (aid int PRIMARY KEY, bid int, abalance int, filler char(84))",
		"INSERT INTO pgbench_accounts SELECT g, 1, 0, '' FROM generate_series(1, " + strconv.Itoa(benchAccounts) + ") g",
		"ANALYZE pgbench_accounts",
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// pgWorkload returns one select-only operation on a pool of benchWorkers
// connections through addr (prepared statement, extended protocol).
func pgWorkload(t *testing.T, pg *demo.Postgres, addr string) func(context.Context) error {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(demo.PostgresDSN(addr, demo.ShopRole, demo.ShopDatabase))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns, cfg.MinConns = benchWorkers, benchWorkers
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return func(ctx context.Context) error {
		var bal int
		return pool.QueryRow(ctx, "SELECT abalance FROM pgbench_accounts WHERE aid = $1", 1+rand.IntN(benchAccounts)).Scan(&bal)
	}
}

// redisWorkload returns one operation, a SET or a GET at random, on a pool
// of benchWorkers connections through addr.
func redisWorkload(t *testing.T, addr string) func(context.Context) error {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, PoolSize: benchWorkers, MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	value := make([]byte, 100)
	return func(ctx context.Context) error {
		key := "bench:" + strconv.Itoa(rand.IntN(1000))
		if rand.IntN(2) == 0 {
			return c.Set(ctx, key, value, 0).Err()
		}
		if err := c.Get(ctx, key).Err(); err != nil && err != redis.Nil {
			return err
		}
		return nil
	}
}

// measure runs a discarded warm-up round (connections, prepared
// statements) and then benchRounds rounds on each path, interleaved so
// that noise from the shared machine falls on all of them, and prints the
// median throughputs and the median of the rounds' protocol-aware / plain
// ratios.
func measure(t *testing.T, what string, paths []*benchPath, workload func(addr string) func(context.Context) error) {
	t.Helper()
	ops := make([]func(context.Context) error, len(paths))
	for i, p := range paths {
		ops[i] = workload(p.addr)
	}
	for r := range benchRounds + 1 {
		for i, p := range paths {
			rate, err := round(ops[i])
			if err != nil {
				t.Fatalf("%s via %s: %v", what, p.name, err)
			}
			if r > 0 {
				p.rate = append(p.rate, rate)
			}
		}
	}
	ratios := make([]float64, benchRounds)
	for r := range ratios {
		ratios[r] = paths[2].rate[r] / paths[1].rate[r]
	}
	slices.Sort(ratios)
	report := fmt.Sprintf("%s, %d workers, %d × %v per path:\n", what, benchWorkers, benchRounds, benchRound)
	for _, p := range paths {
		report += fmt.Sprintf("  %-22s %8.0f ops/s (rounds %.0f)\n", p.name, p.median(), p.rate)
	}
	report += fmt.Sprintf("  protocol-aware / plain = %.2f× (median of the rounds' ratios %.2f; target ≥ 0.70×); plain / direct = %.2f×",
		ratios[len(ratios)/2], ratios, paths[1].median()/paths[0].median())
	t.Log(report)
}

// round runs op in benchWorkers goroutines for benchRound and returns the
// completed operations per second; the first error stops it.
func round(op func(context.Context) error) (float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), benchRound)
	defer cancel()
	var done atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	begin := time.Now()
	for range benchWorkers {
		wg.Go(func() {
			for ctx.Err() == nil {
				if err := op(ctx); err != nil {
					if ctx.Err() == nil {
						once.Do(func() { firstErr = err; cancel() })
					}
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	return float64(done.Load()) / time.Since(begin).Seconds(), firstErr
}
