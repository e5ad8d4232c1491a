#!/usr/bin/env bash
# Memory of chaosload's generator per virtual user: 10,000 VUs in
# constant-vus with 10 s think time (bench/memory.yaml) against the local
# bench/httpserver, each VU on its own keep-alive connection. The chaosload
# process's RSS is sampled every 0.2 s (VmRSS) and its peak (VmHWM) read
# until it exits; the script prints the peak RSS, RSS per VU and the
# requests completed. Target: peak RSS ≤ 500 MB. The 10,000 VUs start
# together and think exactly 10 s, so they wake in bursts of 10,000: on a
# small machine the generator's lag p99 then exceeds its 5 ms health bound
# and chaosload exits 4 (invalid run); the memory figures stand.
#
#   bench/memory.sh                  10,000 VUs for 40 s
#   VUS=20000 DURATION=60s bench/memory.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

VUS=${VUS:-10000}
DURATION=${DURATION:-40s}

work=$(mktemp -d)
server_pid=
cleanup() {
	if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

# Each side holds VUS connections.
ulimit -n $((VUS + 4096)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if (($(ulimit -n) < VUS + 100)); then
	echo "RLIMIT_NOFILE is $(ulimit -n), below $VUS connections: raise it (ulimit -n)" >&2
	exit 1
fi

go build -o "$work/httpserver" ./bench/httpserver
go build -o "$work/chaosload" ./cmd/chaosload
"$work/httpserver" -addr 127.0.0.1:0 >"$work/server.out" &
server_pid=$!
for _ in $(seq 50); do
	grep -q listening "$work/server.out" 2>/dev/null && break
	sleep 0.1
done
url="http://$(awk '/listening on/ {print $3}' "$work/server.out")/"
echo "server $url; $VUS VUs, 10s think, $DURATION"

BENCH_URL=$url BENCH_VUS=$VUS BENCH_DURATION=$DURATION \
	"$work/chaosload" run bench/memory.yaml --quiet --json "$work/result.json" >"$work/out" 2>&1 &
pid=$!
peak=0 last=0
while kill -0 "$pid" 2>/dev/null; do
	if [[ -r /proc/$pid/status ]]; then
		hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
		last=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
		((${hwm:-0} > peak)) && peak=$hwm
	fi
	sleep 0.2
done
code=0
wait "$pid" || code=$?
python3 - "$work/result.json" "$peak" "$VUS" "$code" <<'PY'
import json, sys
path, peak_kb, vus, code = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
d = json.load(open(path))
t = d["totals"]
print(f"chaosload exit {code}: {t['ops']} requests, {t['errors']} errors, generator lag p99 {d['generator']['lag_p99_ms']} ms")
print(f"peak RSS  {peak_kb / 1024:.1f} MB  (target <= 500 MB)")
print(f"RSS/VU    {peak_kb / vus:.1f} KB")
PY
