package readiness

import (
	"strings"
	"testing"
)

func TestDefaultCriteriaParse(t *testing.T) {
	c := Default()
	if len(c.Criteria) < 20 {
		t.Fatalf("the default plan has %d criteria; it states at least 20", len(c.Criteria))
	}
	for _, cr := range c.Criteria {
		if cr.Text == "" {
			t.Errorf("%s: no text", cr.ID)
		}
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, yaml, want string
	}{
		// an unknown key is named with its line and column
		{"unknown key", "version: 1\ncriteria:\n  - id: a\n    metric: p95_ms\n    expect: \"< 1s\"\n    bound: 3\n",
			`f.yaml:6:5: unknown key "bound"; valid: id, text, tag, metric, expect, advisory`},
		// an unknown metric lists the valid ones
		{"unknown metric", "version: 1\ncriteria:\n  - {id: a, metric: p96_ms, expect: \"< 1s\"}\n",
			`f.yaml:3:21: criteria[0].metric: unknown metric "p96_ms"; valid:`},
		// a unit that does not fit the metric says what would
		{"wrong unit", "version: 1\ncriteria:\n  - {id: a, metric: rss_peak, expect: \"< 100ms\"}\n",
			`f.yaml:3:39: criteria[0].expect: unit "ms" does not fit this metric; it takes a bound like "< 500MB"`},
		// not a bound at all
		{"no operator", "version: 1\ncriteria:\n  - {id: a, metric: error_rate, expect: \"1%\"}\n",
			`f.yaml:3:41: criteria[0].expect: "1%" is not a bound`},
		// a repeated id points at the first
		{"duplicate id", "version: 1\ncriteria:\n  - {id: a, metric: p95_ms, expect: \"< 1s\"}\n  - {id: a, metric: p95_ms, expect: \"< 2s\"}\n",
			`f.yaml:4:5: criteria[1].id: "a" is already the id of the criterion at f.yaml:3:5`},
		// required keys
		{"missing expect", "version: 1\ncriteria:\n  - {id: a, metric: p95_ms}\n", `f.yaml:3:5: criteria[0].expect: is required`},
		// the version is checked
		{"version", "version: 2\ncriteria: []\n", `f.yaml:1:10: version: "2" is not supported; write version: 1`},
		// a wrong type
		{"advisory type", "version: 1\ncriteria:\n  - {id: a, metric: p95_ms, expect: \"< 1s\", advisory: yes please}\n",
			`f.yaml:3:55: criteria[0].advisory: expected true or false`},
		// found takes no operator
		{"found", "version: 1\ncriteria:\n  - {id: a, metric: breaking_point, expect: \"> 1\"}\n",
			`criteria[0].expect: this metric is judged found or not: write "found"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("f.yaml", []byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestParseEveryProblemAtOnce(t *testing.T) {
	_, err := Parse("f.yaml", []byte("version: 1\ncriteria:\n  - {id: a, metric: nope, expect: \"< 1s\"}\n  - {id: b, metric: p95_ms, expect: \"< 1GB\"}\n"))
	es, ok := err.(Errors)
	if !ok || len(es) != 2 {
		t.Fatalf("got %v, want two problems", err)
	}
}

func TestBounds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		bound string
		kind  Kind
		value float64
		holds float64 // a value that holds
		fails float64 // one that does not
	}{
		{"< 100ms", Duration, 100, 99, 100},         // strict upper bound in ms
		{"< 3s", Duration, 3000, 2999, 3000},        // seconds to ms
		{">= 3min", Duration, 180000, 180000, 1000}, // minutes to ms
		{"< 1%", Ratio, 0.01, 0.009, 0.01},          // percent to a fraction
		{"< 500MB", Bytes, 500e6, 499e6, 501e6},     // decimal megabytes
		{">= 1000/min", Rate, 1000.0 / 60, 17, 16},  // per minute to per second
		{"< 10MB/min", ByteRate, 10e6, 1e6, 11e6},   // bytes per minute
		{"== 100%", Ratio, 1, 1, 0.999},             // equality
		{">= 100", Count, 100, 100, 99},             // a plain count
		{"found", Found, 1, 1, 0},                   // found or not
	} {
		b, err := parseBound(tc.bound, tc.kind)
		if err != nil {
			t.Fatalf("%s: %v", tc.bound, err)
		}
		if b.Value != tc.value || !b.Holds(tc.holds) || b.Holds(tc.fails) {
			t.Errorf("%s: value %g, holds(%g)=%v, holds(%g)=%v", tc.bound, b.Value, tc.holds, b.Holds(tc.holds), tc.fails, b.Holds(tc.fails))
		}
	}
}
