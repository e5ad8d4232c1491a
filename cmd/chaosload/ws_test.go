package main

import (
	"testing"

	"github.com/chaosload/chaosload/runner"
)

// shortWebSocket shortens experiments/websocket-1000-msgs.yaml (durations
// only): 20 s of load, the chatters reconnecting every 5 s. The rates, the
// connection counts and every threshold are the file's own.
var shortWebSocket = []string{
	"--set", "scenarios.chatters.duration=20s",
	"--set", "scenarios.chatters.steps.chat.ws.hold=5s",
	"--set", "scenarios.joiners.duration=20s",
	"--set", "scenarios.shoppers.duration=20s",
}

// TestWebSocketExperimentPasses: the bundled WebSocket experiment passes
// against the graceful demo: 1,000+ messages/s each way, 50+ connections/s,
// round trip p95 < 100 ms; and every one of those checks was judged, on
// data, not skipped.
func TestWebSocketExperimentPasses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo stack for about 25s")
	}
	code, stdout, out := runFile(t, "../../experiments/websocket-1000-msgs.yaml", shortWebSocket...)
	if !codeIs(t, code, out, exitOK) || out.Verdict != runner.Passed {
		t.Fatalf("exit %d, verdict %s, want 0/passed\n%s", code, out.Verdict, stdout)
	}
	expectJudged(t, out, stdout, "ws_msgs{direction:sent}", "ws_msgs{direction:received}", "conn_rate{protocol:ws}",
		"ws_rtt", "ws_connect", "errors")
}
