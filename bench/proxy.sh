#!/usr/bin/env bash
# The proxy's performance figures, printed with their ratios, each
# route alternating with the others within one run (medians of rounds):
#   1. pass-through with no fault, in process: 64 B echo req/s and proxy CPU
#      per request at 1, 8 and 64 connections, bulk MB/s and CPU per MiB,
#      memory per idle connection — direct vs chaosload on the sockmap fast
#      path vs chaosload copying (NoSockmap) vs Toxiproxy's own Proxy, plus
#      the simplest Go proxy as the floor (proxy/ratios_test.go);
#   2. revert time of a fault with 1,000 live connections, 10 back-pressured,
#      and injected 10 ms latency accuracy with 50 connections
#      (proxy/faultbench_test.go);
#   3. real clients, no fault: redis-benchmark -t get,set and pgbench -S
#      direct vs sockmap vs copy vs Toxiproxy (bench/proxyclients), against a
#      redis-server and a PostgreSQL started by package demo.
# The machine's load average is printed with every table: on a shared
# machine, trust the CPU-per-request rows over the rates.
#
#   bench/proxy.sh            ROUNDS=5 bench/proxy.sh    (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
rounds=${ROUNDS:-3}
# 1,000 proxied connections hold 4,000 descriptors, 2,000 idle ones 8,000.
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true

need() { # need BINARY DEBIAN-PACKAGE
	command -v "$1" >/dev/null && return
	if [ "$(id -u)" = 0 ]; then
		apt-get install -y -q "$2" >/dev/null
	else
		echo "$1 is missing: run  sudo apt-get install $2" >&2
		exit 1
	fi
}

cmd=(env CHAOSLOAD_BENCH=1 CHAOSLOAD_BENCH_ROUNDS="$rounds" go test -tags manual -count=1 -timeout 30m
	-run '^TestPrint(PassthroughRatios|RevertTime|LatencyAccuracy)$' -v -benchtime=1s ./proxy)
echo "+ ${cmd[*]}"
"${cmd[@]}" | grep -vE '^(=== RUN|--- PASS|PASS$)'

need redis-benchmark redis-tools
need pgbench postgresql-contrib
cmd=(go run ./bench/proxyclients -rounds "$rounds")
echo "+ ${cmd[*]}"
"${cmd[@]}" 2> >(grep -vE 'DBG|INF' >&2)
