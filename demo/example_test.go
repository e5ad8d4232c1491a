package demo_test

import (
	"context"
	"fmt"
	"log"

	"github.com/chaosload/chaosload/demo"
	"github.com/rs/zerolog"
)

// The runner's wiring: dependencies first, then (not shown) one fault proxy
// per dependency, then the service pointed at the proxies.
func Example() {
	ctx := context.Background()
	pg, err := demo.StartPostgres(ctx, demo.PostgresConfig{Logger: zerolog.Nop()})
	if err != nil {
		log.Fatal(err)
	}
	defer pg.Close()
	rd, err := demo.StartRedis(ctx, demo.RedisConfig{Logger: zerolog.Nop()})
	if err != nil {
		log.Fatal(err)
	}
	defer rd.Close()

	// pgProxy and redisProxy would be the listen addresses of proxies whose
	// upstreams are pg.Addr() and rd.Addr().
	pgProxy, redisProxy := pg.Addr(), rd.Addr()
	// The service runs as a child process: this executable re-executed,
	// whose main calls demo.RunServiceIfChild first.
	svc, err := demo.StartServiceProcess(ctx, demo.ServiceProcessConfig{Service: demo.ServiceConfig{
		Mode: demo.ModeGraceful, Postgres: pgProxy, Redis: redisProxy,
	}})
	if err != nil {
		log.Fatal(err)
	}
	defer svc.Close()

	fmt.Println("api:", svc.Addr())
	fmt.Println("pool-exhaustion dsn:", pg.DSN(demo.Superuser, demo.ShopDatabase))
}
