package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/rs/zerolog"

	"github.com/chaosload/chaosload/demo"
)

// config is what the flags set.
type config struct {
	rounds        int // rounds of every route and tool, alternating routes
	redisRequests int // redis-benchmark -n (per test)
	redisClients  int // redis-benchmark -c
	pgSeconds     int // pgbench -T
	pgClients     int // pgbench -c (and -j 2)
}

func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("proxyclients", flag.ContinueOnError)
	fs.IntVar(&c.rounds, "rounds", 3, "rounds (each runs every route once, in rotating order)")
	fs.IntVar(&c.redisRequests, "redis-requests", 100000, "redis-benchmark -n")
	fs.IntVar(&c.redisClients, "redis-clients", 50, "redis-benchmark -c")
	fs.IntVar(&c.pgSeconds, "pg-seconds", 10, "pgbench -T")
	fs.IntVar(&c.pgClients, "pg-clients", 8, "pgbench -c")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.rounds < 1 || c.redisRequests < 1 || c.pgSeconds < 1 || c.pgClients < 1 || c.redisClients < 1 {
		return c, fmt.Errorf("every count must be at least 1")
	}
	return c, nil
}

// run starts Redis and PostgreSQL, the routes in front of each, runs the
// tools round by round and prints the table.
func run(ctx context.Context, cfg config, out io.Writer, log zerolog.Logger) error {
	rds, err := demo.StartRedis(ctx, demo.RedisConfig{Logger: log})
	if err != nil {
		return fmt.Errorf("start redis: %w", err)
	}
	defer rds.Close()
	if rds.InProcess() {
		return fmt.Errorf("redis-server is not installed: the in-process fallback would measure miniredis")
	}
	pg, err := demo.StartPostgres(ctx, demo.PostgresConfig{MaxConnections: 4 * cfg.pgClients, Logger: log})
	if err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	defer pg.Close()
	if err := pgbenchInit(ctx, pg.Addr()); err != nil {
		return err
	}
	rr, err := startRoutes(ctx, rds.Addr(), log)
	if err != nil {
		return err
	}
	defer rr.close()
	pr, err := startRoutes(ctx, pg.Addr(), log)
	if err != nil {
		return err
	}
	defer pr.close()
	res := newResults()
	for round := range cfg.rounds {
		for i := range routeNames {
			r := (i + round) % len(routeNames) // rotate who goes first
			if err := measureRound(ctx, cfg, res, r, rr.addrs[r], pr.addrs[r], servers{rds.PID(), pg.PID()}, log); err != nil {
				return err
			}
		}
	}
	res.print(out, cfg)
	return nil
}

// servers are the PIDs of the servers, whose CPU time is read from /proc.
type servers struct{ redis, pg int }

// measureRound runs every tool once on route r.
func measureRound(ctx context.Context, cfg config, res *results, r int, redisAddr, pgAddr string, pids servers, log zerolog.Logger) error {
	log.Info().Str("route", routeNames[r]).Msg("redis-benchmark")
	c0 := snapshot(pids.redis)
	rps, err := redisBenchmark(ctx, redisAddr, cfg.redisRequests, cfg.redisClients)
	if err != nil {
		return fmt.Errorf("%s: %w", routeNames[r], err)
	}
	res.add("redis", r, rps, snapshot(pids.redis).minus(c0), 2*cfg.redisRequests)
	log.Info().Str("route", routeNames[r]).Msg("pgbench -S")
	c0 = snapshot(pids.pg)
	tps, txns, err := pgbench(ctx, pgAddr, cfg.pgSeconds, cfg.pgClients)
	if err != nil {
		return fmt.Errorf("%s: %w", routeNames[r], err)
	}
	if err := settle(ctx); err != nil {
		return err
	}
	res.add("pg", r, map[string]float64{"pgbench -S": tps}, snapshot(pids.pg).minus(c0), txns)
	return nil
}

// settle waits for PostgreSQL to reap the backends pgbench's connections
// had: their CPU time counts in the postmaster's only once reaped.
func settle(ctx context.Context) error {
	t := time.NewTimer(300 * time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
