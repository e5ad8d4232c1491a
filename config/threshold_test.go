package config

import (
	"testing"
	"time"
)

func TestParseCondition(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind MetricKind
		in   string
		want Condition
	}{
		// k6's percentile form with a duration unit
		{Trend, "p(95) < 100ms", Condition{Agg: AggP, P: 95, Op: OpLT, Value: 100, Unit: UnitDuration}},
		// fractional percentile, seconds normalised to ms
		{Trend, "p(99.9)<=2s", Condition{Agg: AggP, P: 99.9, Op: OpLE, Value: 2000, Unit: UnitDuration}},
		// bare number on a trend is milliseconds, as in k6
		{Trend, "avg < 200", Condition{Agg: AggAvg, Op: OpLT, Value: 200, Unit: UnitDuration}},
		// a percentage becomes a fraction
		{Ratio, "rate < 1%", Condition{Agg: AggRate, Op: OpLT, Value: 0.01, Unit: UnitPercent}},
		// a plain fraction is accepted too
		{Ratio, "rate<0.6", Condition{Agg: AggRate, Op: OpLT, Value: 0.6}},
		// counts
		{Ratio, "count == 0", Condition{Agg: AggCount, Op: OpEQ, Value: 0}},
		// per-second rate of a counter
		{Counter, "rate >= 500/s", Condition{Agg: AggRate, Op: OpGE, Value: 500, Unit: UnitPerSecond}},
		// a sustained abort condition
		{Ratio, "rate > 95% for 15s", Condition{Agg: AggRate, Op: OpGT, Value: 0.95, Unit: UnitPercent, For: 15 * time.Second}},
	}
	for _, tc := range tests {
		got, err := ParseCondition(tc.kind, tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		got.Text = ""
		if got != tc.want {
			t.Errorf("%q: got %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestParseConditionErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind       MetricKind
		in         string
		wantOffset int
	}{
		{Trend, "p(95) < 100xs", 11},      // unknown unit, pointed at
		{Trend, "p(0) < 1s", 1},           // percentile out of range
		{Trend, "rate < 1%", 0},           // aggregation of another kind
		{Ratio, "rate < 100ms", 10},       // wrong unit for a share
		{Trend, "p(95) 100ms", 6},         // missing operator
		{Trend, "p(95) < fast", 8},        // not a number
		{Ratio, "rate > 1% for ever", 14}, // bad sustain duration
		{Trend, "p(95) < 1s and", 11},     // trailing junk
	}
	for _, tc := range tests {
		_, err := ParseCondition(tc.kind, tc.in)
		se, ok := err.(*SyntaxError)
		if !ok {
			t.Errorf("%q: got %v, want a SyntaxError", tc.in, err)
			continue
		}
		if se.Offset != tc.wantOffset {
			t.Errorf("%q: offset %d, want %d (%s)", tc.in, se.Offset, tc.wantOffset, se.Msg)
		}
	}
}

func TestParseMetricRef(t *testing.T) {
	t.Parallel()
	ref, err := ParseMetricRef("errors{step:order, class:http_5xx}")
	if err != nil {
		t.Fatal(err)
	}
	if ref.Name != "errors" || ref.Kind != Ratio || ref.Tag("class") != "http_5xx" || ref.Tag("step") != "order" {
		t.Fatalf("got %+v", ref)
	}
	if got := ref.String(); got != "errors{class:http_5xx,step:order}" {
		t.Fatalf("String() = %q", got)
	}
	for _, bad := range []string{"latncy", "errors{class}", "errors{colour:red}", "errors{class:a,class:b}", "errors{class:a"} {
		if _, err := ParseMetricRef(bad); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

func FuzzThreshold(f *testing.F) {
	for _, s := range []string{"p(95) < 100ms", "rate < 1%", "count == 0", "rate > 95% for 15s", "avg<=2s", "p(99.99)!=1e3us"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, kind := range []MetricKind{Trend, Ratio, Counter, Gauge} {
			c, err := ParseCondition(kind, s)
			if err != nil {
				if se, ok := err.(*SyntaxError); !ok || se.Offset < 0 || se.Offset > len(s) {
					t.Fatalf("%q: bad error %v", s, err)
				}
				continue
			}
			// A parsed condition must re-parse to the same thing.
			again, err := ParseCondition(kind, c.Text)
			if err != nil || again != c {
				t.Fatalf("%q: re-parse of %q gave %+v, %v", s, c.Text, again, err)
			}
		}
	})
}
