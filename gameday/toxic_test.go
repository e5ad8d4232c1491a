package gameday

import (
	"reflect"
	"testing"
	"time"

	"github.com/chaosload/chaosload/faults"
)

// TestToxicSpecUnits checks the one conversion from Toxiproxy's units to
// chaosload's specs.
func TestToxicSpecUnits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		toxic Toxic
		want  faults.Spec
	}{
		// latency and jitter in ms; downstream by default
		{Toxic{Type: "latency", Attributes: map[string]any{"latency": 250.0, "jitter": 20.0}},
			faults.LatencySpec{Latency: 250 * time.Millisecond, Jitter: 20 * time.Millisecond, Direction: faults.Downstream}},
		// bandwidth in KB/s, 1 KB = 1000 B
		{Toxic{Type: "bandwidth", Stream: "upstream", Attributes: map[string]any{"rate": 64.0}},
			faults.BandwidthSpec{Rate: 64000, Direction: faults.Upstream}},
		// rate 0, Toxiproxy's stall, becomes 1 B/s
		{Toxic{Type: "bandwidth", Attributes: map[string]any{"rate": 0.0}},
			faults.BandwidthSpec{Rate: 1, Direction: faults.Downstream}},
		// slow_close delay in ms
		{Toxic{Type: "slow_close", Attributes: map[string]any{"delay": 500.0}},
			faults.SlowCloseSpec{Delay: 500 * time.Millisecond, Direction: faults.Downstream}},
		// timeout in ms, 0 never closes
		{Toxic{Type: "timeout", Attributes: map[string]any{"timeout": 0.0}}, faults.TimeoutSpec{}},
		// reset_peer timeout in ms
		{Toxic{Type: "reset_peer", Attributes: map[string]any{"timeout": 100.0}}, faults.ResetPeerSpec{Timeout: 100 * time.Millisecond}},
		// slicer sizes in bytes, delay in µs
		{Toxic{Type: "slicer", Attributes: map[string]any{"average_size": 64.0, "size_variation": 8.0, "delay": 1500.0}},
			faults.SlicerSpec{Size: 64, SizeVariation: 8, Delay: 1500 * time.Microsecond, Direction: faults.Downstream}},
		// limit_data in bytes
		{Toxic{Type: "limit_data", Attributes: map[string]any{"bytes": 4096.0}},
			faults.LimitDataSpec{Bytes: 4096, Direction: faults.Downstream}},
	}
	for _, tc := range tests {
		x := tc.toxic
		if err := x.normalise(); err != nil {
			t.Fatalf("%s: %v", x.Type, err)
		}
		if got := x.Spec(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s %v: spec %+v, want %+v", x.Type, tc.toxic.Attributes, got, tc.want)
		}
	}
}

// TestToxicNormaliseRefuses: what Toxiproxy refuses with 400.
func TestToxicNormaliseRefuses(t *testing.T) {
	t.Parallel()
	for _, x := range []Toxic{
		{Type: "nope"},                                                 // unknown type
		{Type: "latency", Stream: "both"},                              // bad stream
		{Type: "latency", Toxicity: 1.5},                               // toxicity above 1
		{Type: "latency", Attributes: map[string]any{"latency": "x"}},  // not a number
		{Type: "latency", Attributes: map[string]any{"latency": -5.0}}, // negative
	} {
		if err := x.normalise(); err == nil {
			t.Errorf("%+v accepted", x)
		}
	}
}
