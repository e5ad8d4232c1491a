package faults

import (
	"strings"
	"testing"
	"time"
)

// TestCheckSpec: the zero values a proxy takes as their default are valid,
// and the error names each field by its YAML key.
func TestCheckSpec(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		spec Spec
		want string // "" = valid
	}{
		// loss with no mode is the model, its RTO filled in.
		{"loss, mode unset", LossSpec{Rate: 0.05, RTO: DefaultRTO}, ""},
		// the model needs an RTO: Spec fills it in, a hand-made spec must.
		{"loss, model without rto", LossSpec{Rate: 0.05, Mode: Model}, "rto: 0s is out of range; valid: 1ms to 2m0s"},
		// kernel loss ignores the RTO Spec fills in whatever the mode.
		{"kernel loss with the default rto", LossSpec{Rate: 0.05, RTO: DefaultRTO, Mode: Kernel}, ""},
		// conn-limit with no onExcess refuses.
		{"conn-limit, onExcess unset", ConnLimitSpec{Max: 1}, ""},
		// every problem, each by its key.
		{"slicer, everything wrong", SlicerSpec{Size: 0, SizeVariation: -1, Delay: -time.Second, Direction: "in"},
			"size: is required and must be positive: the average slice, e.g. 64B; sizeVariation: must be at least 0 and smaller than size; " +
				"delay: must not be negative; direction: must be upstream, downstream or both"},
		// a delay of another protocol holds requests only.
		{"pg-delay downstream", RequestDelaySpec{Protocol: "postgres", Probability: 1, Latency: time.Millisecond, Direction: Downstream},
			"direction: a postgres delay holds requests (upstream) only"},
		// kinds with nothing to check.
		{"reset", ResetSpec{}, ""},
	}
	for _, tc := range tests {
		err := CheckSpec(tc.spec)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v, want valid", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
