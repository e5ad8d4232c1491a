package readiness

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Kind is what a metric's value measures, and so which units its bound
// takes.
type Kind int

// The kinds, each with its base unit.
const (
	Count    Kind = iota // a number, no unit
	Duration             // milliseconds: ms, s, min
	Ratio                // a fraction: %, or a plain number
	Bytes                // bytes: B KB MB GB KiB MiB GiB
	Rate                 // per second: /s, /min
	ByteRate             // bytes per minute: MB/min, KB/min, B/min
	Found                // 1 when found, 0 when not: "found"
	// AnyKind is a threshold's metric, whose kind is its bound's unit.
	AnyKind
)

// units maps each unit a bound may take to its kind and its factor to the
// kind's base unit.
var units = map[string]struct {
	kind   Kind
	factor float64
}{
	"ms": {Duration, 1}, "s": {Duration, 1e3}, "min": {Duration, 60e3},
	"%": {Ratio, 0.01},
	"B": {Bytes, 1}, "KB": {Bytes, 1e3}, "MB": {Bytes, 1e6}, "GB": {Bytes, 1e9},
	"KiB": {Bytes, 1 << 10}, "MiB": {Bytes, 1 << 20}, "GiB": {Bytes, 1 << 30},
	"/s": {Rate, 1}, "/min": {Rate, 1.0 / 60},
	"B/min": {ByteRate, 1}, "KB/min": {ByteRate, 1e3}, "MB/min": {ByteRate, 1e6},
}

// unitExamples says, per kind, what a bound looks like.
var unitExamples = map[Kind]string{
	Count: `">= 100"`, Duration: `"< 100ms" or "< 30s"`, Ratio: `"< 1%"`, Bytes: `"< 500MB"`,
	Rate: `">= 1000/s" or ">= 1000/min"`, ByteRate: `"< 5MB/min"`, Found: `"found"`,
	AnyKind: `"< 100ms", "< 1%", ">= 1000/s" or ">= 50"`,
}

// Bound is a criterion's expectation: the metric Op Value, Value in the
// metric kind's base unit.
type Bound struct {
	Op    string
	Value float64
	// Text is the bound as written ("< 100ms").
	Text string
	// Kind is the kind of the value, which says how to show it.
	Kind Kind
}

var boundRE = regexp.MustCompile(`^\s*(<=|>=|==|!=|<|>)\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z%/]*)\s*$`)

// parseBound reads a bound for a metric of kind k.
func parseBound(s string, k Kind) (Bound, error) {
	if k == Found {
		if strings.TrimSpace(s) != "found" {
			return Bound{}, fmt.Errorf("this metric is judged found or not: write %s", unitExamples[Found])
		}
		return Bound{Op: ">=", Value: 1, Text: "found", Kind: Found}, nil
	}
	m := boundRE.FindStringSubmatch(s)
	if m == nil {
		return Bound{}, fmt.Errorf("%q is not a bound: an operator (< <= > >= == !=), a number and a unit, e.g. %s", s, unitExamples[k])
	}
	v, err := strconv.ParseFloat(m[2], 64)
	if err != nil {
		return Bound{}, fmt.Errorf("%q: %w", m[2], err)
	}
	u, ok := units[m[3]]
	if k == AnyKind {
		k = u.kind // Count for no unit
	}
	switch {
	case m[3] == "" && (k == Count || k == Ratio):
		u.kind, u.factor = k, 1
	case !ok:
		return Bound{}, fmt.Errorf("unknown unit %q; this metric takes a bound like %s", m[3], unitExamples[k])
	case u.kind != k:
		return Bound{}, fmt.Errorf("unit %q does not fit this metric; it takes a bound like %s", m[3], unitExamples[k])
	}
	return Bound{Op: m[1], Value: v * u.factor, Text: strings.TrimSpace(s), Kind: k}, nil
}

// Holds reports whether v meets the bound.
func (b Bound) Holds(v float64) bool {
	const eps = 1e-9
	switch b.Op {
	case "<":
		return v < b.Value
	case "<=":
		return v <= b.Value+eps
	case ">":
		return v > b.Value
	case ">=":
		return v >= b.Value-eps
	case "==":
		return math.Abs(v-b.Value) <= eps
	case "!=":
		return math.Abs(v-b.Value) > eps
	}
	return false
}

// margin is how well v meets the bound, larger is better: the distance
// to the bound on its good side (negative on the bad side). Several
// measurements of one criterion are ranked by it.
func (b Bound) margin(v float64) float64 {
	switch b.Op {
	case "<", "<=":
		return b.Value - v
	case ">", ">=":
		return v - b.Value
	case "==":
		return -math.Abs(v - b.Value)
	}
	return math.Abs(v - b.Value)
}
