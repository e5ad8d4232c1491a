// Command proxyclients measures real clients through chaosload's proxy with
// no fault, against the same clients connected directly and through
// Toxiproxy's own Proxy (v2.12, embedded): `redis-benchmark -t get,set`
// against a throwaway redis-server and `pgbench -S` against a throwaway
// PostgreSQL, both started with package demo. Routes alternate within each
// round and the medians of the rounds are printed with the ratios.
//
// Both proxies run inside this process while the servers and the client
// tools are child processes, so this process's CPU time (user + system)
// during a run is the proxy's: it is printed per request.
//
//	go run ./bench/proxyclients [-rounds 3] [-redis-requests 100000] [-pg-seconds 10]
//
// It owns no product code: it is a measurement wired into `make bench` by
// bench/proxy.sh, which installs redis-benchmark and pgbench when missing.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: time.TimeOnly}).With().Timestamp().Logger()
	if err := run(ctx, cfg, os.Stdout, log); err != nil {
		fmt.Fprintln(os.Stderr, "proxyclients:", err)
		os.Exit(1)
	}
}
