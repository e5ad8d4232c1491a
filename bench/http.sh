#!/usr/bin/env bash
# HTTP throughput of chaosload's generator against wrk and vegeta.
#
# One local target (bench/httpserver: a fixed 2-byte 200, pinned to core
# $SERVER_CPU) and, alternately, each load tool pinned to core $TOOL_CPU with
# the same number of connections ($CONNS), $ROUNDS rounds of $DURATION each:
#   - chaosload: `run bench/http-max.yaml` (constant-vus, no think time, its
#     own HTTP/1.1 client, the full per-interval HDR recording of any run);
#   - wrk: one thread, -c $CONNS (closed model, keep-alive);
#   - vegeta: -rate=0 -workers=$CONNS -max-workers=$CONNS, i.e. its closed
#     "as fast as possible" mode with as many workers as connections (its
#     default is open-model pacing; a fixed rate would not measure the
#     tool's ceiling). Results go to a file, reported after the attack.
# Each tool's CPU (user+sys, from the shell's `time`) divided by the
# requests it completed gives µs of tool CPU per request. On a shared
# machine the requests/s swing with what else runs on the two cores (a tool
# that does not get its core, or whose server does not, stalls); CPU per
# request does not, so the script also prints the ratios of requests per
# CPU-second, which is what each tool reaches on a core of its own.
# chaosload saturates its core on purpose here, so its own health check
# calls the run invalid (exit 4); the script reads its figures regardless.
#
# Then the driver alone (load/httpload BenchmarkClient: N goroutines
# calling Driver.Do, no executor) with its own client and with net/http,
# against the same server: does the own client earn its keep?
#
# Targets, for the own client to earn its keep: chaosload ≥ 1.2× vegeta,
# ≥ 0.75× wrk, ≤ 12 µs CPU/req.
# wrk comes from apt (Debian's package), vegeta from `go install` at a
# pinned version into a bench-local GOBIN ($TOOLS).
#
#   bench/http.sh                    3 rounds of 10 s, 50 connections
#   ROUNDS=5 DURATION=20s CONNS=100 bench/http.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-50}
SERVER_CPU=${SERVER_CPU:-0}
TOOL_CPU=${TOOL_CPU:-1}
TOOLS=${TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/chaosload-bench}
VEGETA_VERSION=v12.12.0

work=$(mktemp -d)
server_pid=
cleanup() {
	if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

install_tools() {
	if ! command -v wrk >/dev/null; then
		if [[ $(id -u) == 0 ]]; then
			apt-get install -y -qq wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
		else
			echo "wrk is missing: sudo apt-get install wrk" >&2; exit 1
		fi
	fi
	if [[ ! -x $TOOLS/bin/vegeta ]]; then
		echo "installing vegeta $VEGETA_VERSION into $TOOLS/bin"
		GOBIN=$TOOLS/bin go install "github.com/tsenart/vegeta/v12@$VEGETA_VERSION"
	fi
	VEGETA=$TOOLS/bin/vegeta
}

# start_server builds and starts bench/httpserver on $SERVER_CPU; URL is set.
start_server() {
	go build -o "$work/httpserver" ./bench/httpserver
	go build -o "$work/chaosload" ./cmd/chaosload
	taskset -c "$SERVER_CPU" "$work/httpserver" -addr 127.0.0.1:0 >"$work/server.out" &
	server_pid=$!
	for _ in $(seq 50); do
		grep -q listening "$work/server.out" 2>/dev/null && break
		sleep 0.1
	done
	URL="http://$(awk '/listening on/ {print $3}' "$work/server.out")/"
	echo "server $URL (pid $server_pid, cpu $SERVER_CPU); tools on cpu $TOOL_CPU; $CONNS connections; $ROUNDS rounds of $DURATION"
}

# timed runs "$@" pinned to $TOOL_CPU and leaves its user+sys CPU seconds in $work/cpu.
timed() {
	local TIMEFORMAT='%U %S'
	{ time taskset -c "$TOOL_CPU" "$@" >"$work/out" 2>"$work/err"; } 2>"$work/time" || true
	awk '{print $1 + $2}' "$work/time" >"$work/cpu"
}

secs() { # a Go-style duration of whole seconds or minutes → seconds
	local d=$1
	case $d in *m) echo $((${d%m} * 60)) ;; *s) echo "${d%s}" ;; *) echo "$d" ;; esac
}

# run_TOOL sets REQS (completed requests) and CPU (seconds).
run_chaosload() {
	BENCH_URL=$URL BENCH_VUS=$CONNS BENCH_DURATION=$DURATION \
		timed "$work/chaosload" run bench/http-max.yaml --quiet --json "$work/cl.json"
	REQS=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["totals"]["ops"] - d["totals"]["errors"])' "$work/cl.json")
	CPU=$(cat "$work/cpu")
}

run_wrk() {
	timed wrk -t1 -c"$CONNS" -d"$DURATION" "$URL"
	REQS=$(awk '/requests in/ {print $1}' "$work/out")
	CPU=$(cat "$work/cpu")
}

run_vegeta() {
	echo "GET $URL" >"$work/targets"
	timed "$VEGETA" attack -targets="$work/targets" -rate=0 -workers="$CONNS" -max-workers="$CONNS" \
		-duration="$DURATION" -output="$work/vegeta.bin"
	REQS=$("$VEGETA" report -type=json "$work/vegeta.bin" |
		python3 -c 'import json,sys; d=json.load(sys.stdin); print(round(d["requests"] * d["success"]))')
	CPU=$(cat "$work/cpu")
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

main() {
	install_tools
	start_server
	local d tool r
	d=$(secs "$DURATION")
	declare -A rps cpu
	for r in $(seq "$ROUNDS"); do
		for tool in chaosload wrk vegeta; do
			"run_$tool"
			rps[$tool]+="$(awk -v n="$REQS" -v d="$d" 'BEGIN {printf "%.0f", n / d}') "
			cpu[$tool]+="$(awk -v c="$CPU" -v n="$REQS" 'BEGIN {printf "%.2f", c * 1e6 / n}') "
			printf 'round %d  %-9s %8s req/s  %6s µs CPU/req  (%s requests, %.2fs CPU)\n' "$r" "$tool" \
				"$(awk -v n="$REQS" -v d="$d" 'BEGIN {printf "%.0f", n / d}')" \
				"$(awk -v c="$CPU" -v n="$REQS" 'BEGIN {printf "%.2f", c * 1e6 / n}')" "$REQS" "$CPU"
		done
	done
	declare -A med medcpu
	for tool in chaosload wrk vegeta; do
		med[$tool]=$(tr ' ' '\n' <<<"${rps[$tool]}" | grep . | median)
		medcpu[$tool]=$(tr ' ' '\n' <<<"${cpu[$tool]}" | grep . | median)
		printf 'median    %-9s %8.0f req/s  %6.2f µs CPU/req\n' "$tool" "${med[$tool]}" "${medcpu[$tool]}"
	done
	awk -v c="${med[chaosload]}" -v w="${med[wrk]}" -v v="${med[vegeta]}" -v u="${medcpu[chaosload]}" \
		-v uw="${medcpu[wrk]}" -v uv="${medcpu[vegeta]}" 'BEGIN {
		printf "ratio     chaosload/wrk    %.2f  (target >= 0.75)\n", c / w
		printf "ratio     chaosload/vegeta %.2f  (target >= 1.2)\n", c / v
		printf "per CPU   chaosload/wrk    %.2f  chaosload/vegeta %.2f  (requests per CPU-second: the ratios on a saturated core)\n", uw / u, uv / u
		printf "cpu       chaosload        %.2f µs/request (target <= 12)\n", u }'
	client_bench
}

# client_bench runs the driver alone, own client vs net/http, on $TOOL_CPU.
client_bench() {
	echo "driver alone (load/httpload BenchmarkClient, $CONNS goroutines, cpu $TOOL_CPU):"
	go test -c -o "$work/httpload.test" ./load/httpload
	BENCH_URL=$URL BENCH_CONNS=$CONNS taskset -c "$TOOL_CPU" "$work/httpload.test" \
		-test.run '^$' -test.bench '^BenchmarkClient$' -test.benchtime "$DURATION" -test.count "$ROUNDS" |
		grep -E '^Benchmark'
}

main
