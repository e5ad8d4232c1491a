package gameday

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chaosload/chaosload/faults"
)

// TestDecodeFault shows that a hand-made fault is decoded as strictly as an
// experiment's: each problem at its line and column of the body.
func TestDecodeFault(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want string // the problem, with its position
	}{
		// an unknown key, at its column, with the key meant.
		{"unknown key", `{"name":"x","target":"api","kind":"latency","latncy":"1s"}`,
			`body:1:45: unknown key "latncy" (did you mean "latency"?)`},
		// a value of the wrong type, at the value.
		{"bad duration", `{"name":"x","target":"api","kind":"latency","latency":"fast"}`,
			`body:1:55: latency: want a duration such as 30s, 250ms or 1m30s, got the string "fast"`},
		// a value the kind's rules refuse, in YAML, at its line.
		{"loss above 50%", "name: x\ntarget: api\nkind: loss\nrate: 60%\n",
			`body:4:7: rate: must be at most 50%`},
		// a number outside its span.
		{"latency of 2h", "name: x\ntarget: api\nkind: latency\nlatency: 2h\n",
			`body:4:10: latency: 2h0m0s is out of range; valid: 0s to 1h0m0s`},
		// an experiment's judging is not a hand-made fault's.
		{"degradation", "name: x\ntarget: api\nkind: latency\nlatency: 1s\ndegradation: {errors: [\"rate < 1%\"]}\n",
			`body:5:1: unknown key "degradation"`},
		// not a mapping at all.
		{"list", "- a\n", `body:1:1: want a mapping of keys (name, target, kind, ...) at the top, got a list`},
	}
	for _, tc := range tests {
		_, err := DecodeFault([]byte(tc.body))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	// a valid fault, in JSON, decodes whole.
	f, err := DecodeFault([]byte(`{"name":"slow","target":"api","kind":"latency","latency":"200ms","duration":"30s","toxicity":"50%"}`))
	half := faults.Percent(0.5)
	want := faults.Fault{Name: "slow", Target: "api", Kind: faults.Latency, Latency: 200 * time.Millisecond,
		Duration: 30 * time.Second, Toxicity: &half}
	if err != nil || !reflect.DeepEqual(f, want) {
		t.Errorf("a valid fault: %+v, %v; want %+v", f, err, want)
	}
}
