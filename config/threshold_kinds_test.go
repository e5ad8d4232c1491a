package config

import (
	"strings"
	"testing"
)

// TestParseMetricRefProtocolMetrics: the metrics of connections and
// WebSocket steps parse with their kinds, and the direction tag selects one
// way of ws_msgs only.
func TestParseMetricRefProtocolMetrics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		kind MetricKind
		err  string // substring of the error; "" for none
	}{
		{"conn_rate", Counter, ""},                                 // connections per second
		{"conn_rate{protocol:pg}", Counter, ""},                    // of one protocol
		{"ws_connect", Trend, ""},                                  // the handshake
		{"ws_rtt{step:chat}", Trend, ""},                           // a message's round trip
		{"ws_msgs", Counter, ""},                                   // both ways
		{"ws_msgs{direction:sent}", Counter, ""},                   // one way
		{"ws_msgs{direction:received,step:chat}", Counter, ""},     // one way, one step
		{"ws_msgs{direction:both}", 0, `unknown direction "both"`}, // sent or received only
		{"ops{direction:sent}", 0, "applies only to ws_msgs"},      // no direction on operations
	}
	for _, tt := range tests {
		ref, err := ParseMetricRef(tt.in)
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("%s: %v", tt.in, err)
		case tt.err == "" && ref.Kind != tt.kind:
			t.Errorf("%s: kind %v, want %v", tt.in, ref.Kind, tt.kind)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%s: error %v, want it to say %q", tt.in, err, tt.err)
		}
	}
	if _, err := ParseCondition(Metrics["conn_rate"], "rate >= 50/s"); err != nil {
		t.Errorf("conn_rate: rate >= 50/s: %v", err)
	}
	if _, err := ParseCondition(Metrics["ws_rtt"], "p(95) < 100ms"); err != nil {
		t.Errorf("ws_rtt: p(95) < 100ms: %v", err)
	}
}
