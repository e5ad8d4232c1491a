package config

import (
	"reflect"
	"testing"
)

// TestEveryNumberHasASpan walks the schema's types: every number an
// experiment can hold has a span, and every span names a number of the
// schema (a renamed field cannot leave its range behind).
func TestEveryNumberHasASpan(t *testing.T) {
	t.Parallel()
	patterns := map[string]bool{}
	numberPatterns(reflect.TypeFor[Experiment](), "", patterns)
	missing, stale := keysDiff(patterns, numberSpans)
	if len(missing) > 0 || len(stale) > 0 {
		t.Fatalf("numbers without a span: %v; spans of no number: %v", missing, stale)
	}
	if len(patterns) < 60 {
		t.Fatalf("found %d numbers in the schema; the walk lost some", len(patterns))
	}
}

// TestSpanEdges: a number at either end of its span is valid, one step
// beyond is not, and the message says the span.
func TestSpanEdges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []string // "line:col substring"; none: valid
	}{
		// the most VUs a scenario runs
		{"vus at most", edit("vus: 1", "vus: 1000000"), nil},
		// one more is refused, with the span
		{"vus beyond", edit("vus: 1", "vus: 1000001"), []string{"8:10 scenarios.s.vus: 1000001 is out of range; valid: 1 to 1000000"}},
		// a week of load
		{"duration a week", edit("duration: 10s", "duration: 168h"), nil},
		// a week and a second is refused
		{"duration beyond", edit("duration: 10s", "duration: 168h1s"), []string{"9:15 scenarios.s.duration: 168h0m1s is out of range; valid: 1ms to 168h0m0s"}},
		// a negative number says the whole span, not only its sign
		{"negative", edit("duration: 10s", "duration: -1s"), []string{"9:15 scenarios.s.duration: is required and must be positive, e.g. 60s; valid: 1ms to 168h0m0s"}},
		// a port-0 listen is a free port
		{"listen port 0", edit(`{upstream: "127.0.0.1:8080"}`, `{upstream: "127.0.0.1:8080", listen: "127.0.0.1:0"}`), nil},
		// 65536 is no port
		{"listen port beyond", edit(`{upstream: "127.0.0.1:8080"}`, `{upstream: "127.0.0.1:8080", listen: "127.0.0.1:65536"}`),
			[]string{"4:45 targets.api.listen: \"127.0.0.1:65536\" is not a loopback host:port; a proxy listens on this machine only, on a port from 0 (a free port) to 65535"}},
		// an integer too long for 64 bits says the field's span, not Go's
		{"overflow", edit("vus: 1", "vus: 123456789012345678901234567890"), []string{"8:10 scenarios.s.vus: 123456789012345678901234567890 is out of range; valid: 1 to 1000000"}},
		// a rate threshold of exactly 100% is a (useless) valid bound
		{"rate 100%", base + "thresholds:\n  errors: [\"rate <= 100%\"]\n", nil},
		// above 100% is refused, pointed at the number
		{"rate 100.5%", base + "thresholds:\n  errors: [\"rate < 100.5%\"]\n",
			[]string{"13:20 thresholds.errors.0: in \"rate < 100.5%\": 100.5% is out of range: a rate is a share; valid: 0% to 100%"}},
		// a latency bound of the histograms' hour is valid
		{"latency 1h", base + "thresholds:\n  latency: [\"p(99) < 1h\"]\n", nil},
		// a negative count is refused
		{"count negative", base + "thresholds:\n  ops: [\"count > -1\"]\n",
			[]string{"13:18 thresholds.ops.0: in \"count > -1\": -1 is not a count; valid: a whole number from 0 to 1e15"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			checkProblems(t, problems(t, tc.src, Options{}), tc.want)
		})
	}
}
