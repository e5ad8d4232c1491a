#!/usr/bin/env bash
# WebSocket capacity of chaosload's generator:
#   - 10,000 concurrent WebSocket connections held at once, and
#   - the total message rate at which the round trip's p95 (from each
#     message's intended send time) stays under 100 ms,
# through the real driver and executor (load/wsload BenchmarkWSCapacity),
# against a minimal loopback echo server in the same process (gorilla,
# one goroutine per connection). Generator and server share this machine's
# cores, so the rate found is a floor for the generator alone.
#
# Each level opens 10,000 connections at 1,000/s and holds each 20 s (all
# open at once for 10 s, over which the round trips are measured); rates
# tried (msgs/s in all): 2,000 5,000 10,000 20,000 40,000 80,000 until p95
# reaches 100 ms, then two halvings of the gap. The server is a child
# process (the test binary re-executed), so each side needs ~10,000
# descriptors; RLIMIT_NOFILE is raised as far as allowed.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
cmd=(go test -run '^$' -bench '^BenchmarkWSCapacity$' -benchtime 1x -timeout 30m -v ./load/wsload)
echo "+ ${cmd[*]}"
"${cmd[@]}" | grep -E 'rate|RLIMIT|conns-held|^ok|FAIL|SKIP'
