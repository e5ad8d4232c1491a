package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
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
	result := filepath.Join(t.TempDir(), "result.json")
	args := append([]string{"run", "../../experiments/websocket-1000-msgs.yaml", "--quiet", "--json", result}, shortWebSocket...)
	code, stdout, stderr := invoke(t, context.Background(), args...)
	data, err := os.ReadFile(result)
	if err != nil {
		t.Fatalf("exit %d, no result file: %v\n%s\n%s", code, err, stdout, stderr)
	}
	var out runner.Outcome
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	if !codeIs(t, code, &out, exitOK) || out.Verdict != runner.Passed {
		t.Fatalf("exit %d, verdict %s, want 0/passed\n%s\n%s", code, out.Verdict, stdout, stderr)
	}
	judged := map[string]bool{}
	for _, c := range out.Checks {
		if c.Phase == "baseline" && c.Passed {
			key, _, _ := strings.Cut(c.Name, ": ") // "key: expression"
			judged[key] = true
		}
	}
	for _, name := range []string{"ws_msgs{direction:sent}", "ws_msgs{direction:received}", "conn_rate{protocol:ws}", "ws_rtt", "ws_connect", "errors"} {
		if !judged[name] {
			t.Errorf("%s was not judged and passed in the baseline:\n%s", name, stdout)
		}
	}
}
