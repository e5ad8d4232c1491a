#!/usr/bin/env bash
# WebSocket capacity of chaosload's generator (issue 4):
#   - 10,000 concurrent WebSocket connections held at once, and
#   - the total message rate at which the round trip's p95 (from each
#     message's intended send time) stays under 100 ms,
# through the real driver and executor (load/wsload BenchmarkWSCapacity),
# against a minimal loopback echo server in the same process (gorilla,
# one goroutine per connection). Generator and server share this machine's
# cores, so the rate found is a floor for the generator alone.
#
# Rates tried (msgs/s in all): 2,000 5,000 10,000 20,000 40,000; each level
# holds 10,000 connections for 12 s; the benchmark raises RLIMIT_NOFILE to
# the hard limit (it needs ~20,000 descriptors).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
cmd=(go test -run '^$' -bench '^BenchmarkWSCapacity$' -benchtime 1x -timeout 30m -v ./load/wsload)
echo "+ ${cmd[*]}"
"${cmd[@]}" | grep -E 'rate|conns-held|^ok|FAIL|SKIP'
