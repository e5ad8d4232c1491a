package main

import (
	"testing"

	"github.com/chaosload/chaosload/runner"
)

// shortWebSocket shortens experiments/websocket-1000-msgs.yaml (durations
// only): 20 s of load (the first 5 s the default warm-up), the chatters
// reconnecting every 5 s. The rates, the connection counts and the count and error thresholds
// are the file's own. The two latency bounds (ws_rtt and ws_connect
// p(95) < 100ms) are lifted to 1 s: a busy neighbour on a shared 2-core
// machine can move a p95 past 100 ms, which says nothing of the service;
// a second is still far below a stuck connection or a lost echo (their
// timeout is 2 s), so only a real defect fails it.
var shortWebSocket = []string{
	"--set", "scenarios.chatters.duration=20s",
	"--set", "scenarios.chatters.steps.chat.ws.hold=5s",
	"--set", "scenarios.joiners.duration=20s",
	"--set", "scenarios.shoppers.duration=20s",
	"--set", "thresholds.ws_rtt=p(95) < 1s",
	"--set", "thresholds.ws_connect=p(95) < 1s",
}

// TestWebSocketExperimentPasses: the bundled WebSocket experiment passes
// against the graceful demo: 1,000+ messages/s each way, 50+ connections/s,
// and every one of its checks was judged, on data, not skipped.
func TestWebSocketExperimentPasses(t *testing.T) {
	r := runFile(t, "../../experiments/websocket-1000-msgs.yaml", shortWebSocket...)
	r.expect(t, exitOK, runner.Passed)
	expectJudged(t, r.out, r.stdout, "ws_msgs{direction:sent}", "ws_msgs{direction:received}", "conn_rate{protocol:ws}",
		"ws_rtt", "ws_connect", "errors")
}
