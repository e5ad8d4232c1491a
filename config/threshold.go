package config

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/chaosload/chaosload/bytesize"
)

// The threshold grammar, k6's with units and a sustain clause. Keys select a
// metric, values are lists of conditions:
//
//	key        = metric [ "{" tag { "," tag } "}" ]
//	tag        = name ":" value
//	condition  = aggregation op value [ "for" duration ]
//	aggregation= "p(" number ")" | "avg" | "min" | "max" | "med"
//	           | "rate" | "count" | "value"
//	           | "out" | "back" | "reached"       (rotation only)
//	op         = "<" | "<=" | ">" | ">=" | "==" | "!="
//	value      = number [ unit ]
//	unit       = duration unit (ns us µs ms s m h) | "%" | "/s"
//	           | byte unit (B KB MB GB TB KiB MiB GiB TiB)
//
// Values are normalised: durations to milliseconds (a bare number on a trend
// is milliseconds, as in k6), percentages to fractions, byte sizes to bytes.

// MetricKind says how a metric aggregates.
type MetricKind int

// The metric kinds.
const (
	// Trend metrics are distributions (histograms of durations).
	Trend MetricKind = iota
	// Ratio metrics are a share of operations (errors).
	Ratio
	// Counter metrics count events; their rate is per second.
	Counter
	// Gauge metrics are sampled values (resource use).
	Gauge
	// Rotation is the rotation of a target's replicas around a fault
	// (rotation.go): out, back and reached, per episode and replica.
	Rotation
)

// Metrics is the catalogue of metric names usable in thresholds, with how
// each aggregates. Package metrics says how each is measured (metrics.Defs);
// a test keeps the two in step.
var Metrics = map[string]MetricKind{
	// Every step operation.
	"latency":      Trend,
	"service_time": Trend,
	"dispatch_lag": Trend,
	"errors":       Ratio,
	"ops":          Counter,
	"dropped":      Counter,
	"conn_rate":    Counter, // connections established (rate: per second)
	// WebSocket steps.
	"ws_connect": Trend,   // dial + handshake
	"ws_rtt":     Trend,   // a message's intended send time → its reply
	"ws_msgs":    Counter, // messages, both ways unless {direction:sent|received}
	// Monitored target processes (monitor:), sampled every second and
	// summed over the processes: CPU in percent of one core (`max < 70`,
	// or `max < 70%`), RSS in bytes (`max < 500MB`), open file
	// descriptors, threads; target_rss_slope is the RSS trend over the
	// phase in bytes per minute by least squares (`value < 1MB`).
	"target_cpu":       Gauge,
	"target_rss":       Gauge,
	"target_fds":       Gauge,
	"target_threads":   Gauge,
	"target_rss_slope": Gauge,
	// Probes (probes:): the share of attempts that succeeded
	// (`rate > 99%`) and their latency; {probe:NAME} selects one.
	"probe_ok":      Ratio,
	"probe_latency": Trend,
	// Replicas under a fault (degradation only): time out of rotation,
	// time back in rotation, work that reached them (rotation.go);
	// {target:NAME} selects a target.
	RotationMetric: Rotation,
}

// ResourceMetrics and ProbeMetrics are the metrics judged from the
// monitor's samples and the probes' attempts rather than from the load's
// results.
var (
	ResourceMetrics = []string{"target_cpu", "target_rss", "target_fds", "target_threads", "target_rss_slope"}
	ProbeMetrics    = []string{"probe_ok", "probe_latency"}
)

// TagKeys are the tags a metric key may select on.
var TagKeys = []string{"scenario", "step", "protocol", "target", "class", "direction", "probe"}

// Directions are the values of the direction tag, which only ws_msgs
// takes.
var Directions = []string{"sent", "received"}

// checkTag returns why tag cannot select a sub-metric of metric, "" when it
// can.
func checkTag(metric string, tag Tag) string {
	probeMetric := containsString(ProbeMetrics, metric)
	switch {
	case metric == RotationMetric && tag.Key != "target":
		return fmt.Sprintf("%s takes only the tag target (a target's name)", metric)
	case metric == RotationMetric:
		return ""
	case containsString(ResourceMetrics, metric):
		return fmt.Sprintf("%s is the monitored processes' total and takes no tags", metric)
	case probeMetric && tag.Key != "probe":
		return fmt.Sprintf("%s takes only the tag probe (a probe's name)", metric)
	case tag.Key == "probe" && !probeMetric:
		return "tag \"probe\" applies only to probe_ok and probe_latency"
	case probeMetric:
		return ""
	}
	if tag.Key != "direction" {
		return ""
	}
	switch {
	case metric != "ws_msgs":
		return "tag \"direction\" applies only to ws_msgs"
	case !containsString(Directions, tag.Value):
		return fmt.Sprintf("unknown direction %q; valid: %s", tag.Value, strings.Join(Directions, ", "))
	}
	return ""
}

// Agg is an aggregation method.
type Agg string

// The aggregations.
const (
	AggP     Agg = "p"
	AggAvg   Agg = "avg"
	AggMin   Agg = "min"
	AggMax   Agg = "max"
	AggMed   Agg = "med"
	AggRate  Agg = "rate"
	AggCount Agg = "count"
	AggValue Agg = "value"
	// The rotation aggregations (rotation.go).
	AggOut     Agg = "out"
	AggBack    Agg = "back"
	AggReached Agg = "reached"
)

var aggsByKind = map[MetricKind][]Agg{
	Trend:    {AggP, AggAvg, AggMin, AggMax, AggMed, AggCount},
	Ratio:    {AggRate, AggCount},
	Counter:  {AggCount, AggRate},
	Gauge:    {AggAvg, AggMin, AggMax, AggValue},
	Rotation: {AggOut, AggBack, AggReached},
}

// Op is a comparison operator.
type Op string

// The operators.
const (
	OpLT Op = "<"
	OpLE Op = "<="
	OpGT Op = ">"
	OpGE Op = ">="
	OpEQ Op = "=="
	OpNE Op = "!="
)

// Unit is the unit a threshold value was written in.
type Unit int

// The units.
const (
	UnitNone Unit = iota
	UnitDuration
	UnitPercent
	UnitPerSecond
	UnitBytes
)

// MetricRef selects a metric and, with tags, a sub-metric.
type MetricRef struct {
	Name string
	Kind MetricKind
	// Tags are sorted by key.
	Tags []Tag
}

// Tag is one key:value selector.
type Tag struct{ Key, Value string }

// String renders the reference as written in a file.
func (m MetricRef) String() string {
	if len(m.Tags) == 0 {
		return m.Name
	}
	parts := make([]string, len(m.Tags))
	for i, t := range m.Tags {
		parts[i] = t.Key + ":" + t.Value
	}
	return m.Name + "{" + strings.Join(parts, ",") + "}"
}

// Tag returns the value selected for key, "" when none.
func (m MetricRef) Tag(key string) string {
	for _, t := range m.Tags {
		if t.Key == key {
			return t.Value
		}
	}
	return ""
}

// Condition is one parsed threshold expression.
type Condition struct {
	Agg Agg
	// P is the percentile of AggP, in (0, 100].
	P  float64
	Op Op
	// Value is normalised (see the grammar).
	Value float64
	Unit  Unit
	// For makes the condition judged over a trailing window of this length
	// (abort conditions); zero when absent.
	For time.Duration
	// Text is the expression as written.
	Text string
}

// Holds reports whether observed satisfies the condition.
func (c Condition) Holds(observed float64) bool {
	switch c.Op {
	case OpLT:
		return observed < c.Value
	case OpLE:
		return observed <= c.Value
	case OpGT:
		return observed > c.Value
	case OpGE:
		return observed >= c.Value
	case OpEQ:
		return observed == c.Value
	case OpNE:
		return observed != c.Value
	}
	return false
}

// AggString renders the aggregation as written ("p(95)", "rate").
func (c Condition) AggString() string {
	if c.Agg == AggP {
		return "p(" + strconv.FormatFloat(c.P, 'f', -1, 64) + ")"
	}
	return string(c.Agg)
}

// SyntaxError is a grammar error at a byte offset of the parsed text.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string { return e.Msg }

// ParseMetricRef parses a threshold key such as `errors{class:http_5xx}`.
func ParseMetricRef(s string) (MetricRef, error) {
	name, rest, hasTags := strings.Cut(s, "{")
	name = strings.TrimSpace(name)
	kind, ok := Metrics[name]
	if !ok {
		return MetricRef{}, &SyntaxError{0, fmt.Sprintf("unknown metric %q; valid metrics: %s", name, metricList())}
	}
	ref := MetricRef{Name: name, Kind: kind}
	if !hasTags {
		return ref, nil
	}
	off := len(name) + 1
	body, ok := strings.CutSuffix(strings.TrimSpace(rest), "}")
	if !ok {
		return MetricRef{}, &SyntaxError{len(s), `missing "}" after tags`}
	}
	for _, part := range strings.Split(body, ",") {
		k, v, ok := strings.Cut(part, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case !ok || k == "" || v == "":
			return MetricRef{}, &SyntaxError{off, fmt.Sprintf("tag %q: want key:value", strings.TrimSpace(part))}
		case !containsString(TagKeys, k):
			return MetricRef{}, &SyntaxError{off, fmt.Sprintf("unknown tag %q; valid tags: %s", k, strings.Join(TagKeys, ", "))}
		case ref.Tag(k) != "":
			return MetricRef{}, &SyntaxError{off, fmt.Sprintf("tag %q given twice", k)}
		case checkTag(name, Tag{k, v}) != "":
			return MetricRef{}, &SyntaxError{off, checkTag(name, Tag{k, v})}
		}
		ref.Tags = append(ref.Tags, Tag{k, v})
		off += len(part) + 1
	}
	sort.Slice(ref.Tags, func(i, j int) bool { return ref.Tags[i].Key < ref.Tags[j].Key })
	return ref, nil
}

// ParseCondition parses one threshold expression for a metric of kind.
func ParseCondition(kind MetricKind, s string) (Condition, error) {
	p := &condParser{s: s}
	c, err := p.parse(kind)
	if err != nil {
		return Condition{}, err
	}
	c.Text = strings.TrimSpace(s)
	return c, nil
}

type condParser struct {
	s   string
	pos int
}

func (p *condParser) fail(format string, a ...any) error {
	return &SyntaxError{p.pos, fmt.Sprintf(format, a...)}
}

func (p *condParser) skipSpace() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t') {
		p.pos++
	}
}

func (p *condParser) parse(kind MetricKind) (Condition, error) {
	var c Condition
	p.skipSpace()
	if err := p.aggregation(kind, &c); err != nil {
		return c, err
	}
	p.skipSpace()
	if err := p.operator(&c); err != nil {
		return c, err
	}
	p.skipSpace()
	if err := p.value(kind, &c); err != nil {
		return c, err
	}
	p.skipSpace()
	if strings.HasPrefix(p.s[p.pos:], "for") {
		p.pos += 3
		p.skipSpace()
		start := p.pos
		for p.pos < len(p.s) && p.s[p.pos] != ' ' {
			p.pos++
		}
		d, err := time.ParseDuration(p.s[start:p.pos])
		if err != nil || d <= 0 || d > maxSpan {
			p.pos = start
			return c, p.fail("after \"for\": want a duration such as 15s; valid: above 0 up to %s", maxSpan)
		}
		c.For = d
		p.skipSpace()
	}
	if p.pos != len(p.s) {
		return c, p.fail("unexpected %q at the end; want nothing or \"for DURATION\"", p.s[p.pos:])
	}
	return c, nil
}

func (p *condParser) aggregation(kind MetricKind, c *Condition) error {
	start := p.pos
	for p.pos < len(p.s) && unicode.IsLetter(rune(p.s[p.pos])) {
		p.pos++
	}
	word := p.s[start:p.pos]
	allowed := aggsByKind[kind]
	if word == "p" {
		if p.pos >= len(p.s) || p.s[p.pos] != '(' {
			return p.fail(`want "p(N)", e.g. p(95)`)
		}
		end := strings.IndexByte(p.s[p.pos:], ')')
		if end < 0 {
			return p.fail(`missing ")" after p(`)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(p.s[p.pos+1:p.pos+end]), 64)
		if err != nil || v <= 0 || v > 100 {
			return p.fail("percentile must be a number in (0, 100]")
		}
		c.Agg, c.P = AggP, v
		p.pos += end + 1
	} else {
		c.Agg = Agg(word)
	}
	if !containsAgg(allowed, c.Agg) {
		p.pos = start
		return p.fail("aggregation %q does not apply here; valid: %s", word, aggList(allowed))
	}
	return nil
}

func (p *condParser) operator(c *Condition) error {
	for _, op := range []Op{OpLE, OpGE, OpEQ, OpNE, OpLT, OpGT} {
		if strings.HasPrefix(p.s[p.pos:], string(op)) {
			c.Op = op
			p.pos += len(op)
			return nil
		}
	}
	return p.fail("want an operator: < <= > >= == !=")
}

func (p *condParser) value(kind MetricKind, c *Condition) error {
	start := p.pos
	for p.pos < len(p.s) && strings.ContainsRune("0123456789.+-eE", rune(p.s[p.pos])) {
		p.pos++
	}
	num, err := strconv.ParseFloat(p.s[start:p.pos], 64)
	if err != nil {
		p.pos = start
		return p.fail("want a number, e.g. 100ms, 1%%, 0.01 or 500/s")
	}
	ustart := p.pos
	for p.pos < len(p.s) && p.s[p.pos] != ' ' && p.s[p.pos] != '\t' {
		p.pos++
	}
	unit := p.s[ustart:p.pos]
	v, u, ok := normalise(num, unit)
	if !ok {
		p.pos = ustart
		return p.fail("unknown unit %q; want ms, s, %%, /s or a byte size", unit)
	}
	if msg := unitFits(kind, c.Agg, u); msg != "" {
		p.pos = ustart
		return p.fail("%s", msg)
	}
	if u == UnitNone && (kind == Trend && c.Agg != AggCount || kind == Rotation && c.Agg != AggReached) {
		u = UnitDuration // k6: a bare number on a trend is milliseconds
	}
	if msg := valueFits(kind, c.Agg, v, p.s[start:p.pos]); msg != "" {
		p.pos = start
		return p.fail("%s", msg)
	}
	c.Value, c.Unit = v, u
	return nil
}

// maxTrendMillis is the top of the histograms' range (package metrics): a
// duration threshold above it could never be told apart from it.
const maxTrendMillis = float64(time.Hour / time.Millisecond)

// valueFits returns why normalised value v (written as text) cannot be
// the bound of an aggregation of a metric of kind, "" when it can.
func valueFits(kind MetricKind, agg Agg, v float64, text string) string {
	switch {
	case (agg == AggCount || agg == AggReached) && (v < 0 || v != math.Trunc(v) || v > 1e15):
		return fmt.Sprintf("%s is not a count; valid: a whole number from 0 to 1e15", text)
	case agg == AggCount:
	case kind == Ratio && (v < 0 || v > 1):
		return fmt.Sprintf("%s is out of range: a rate is a share; valid: 0%% to 100%% (or 0 to 1)", text)
	case kind == Counter && (v < 0 || v > 1e12):
		return fmt.Sprintf("%s is out of range; valid: 0/s to 1e12/s", text)
	case kind == Rotation && agg != AggReached && (v < 0 || v > float64(maxSpan/time.Millisecond)):
		return fmt.Sprintf("%s is out of range; valid: 0s to %s", text, maxSpan)
	case kind == Trend && (v < 0 || v > maxTrendMillis):
		return fmt.Sprintf("%s is out of range; valid: 0ms to 1h (the histograms' range)", text)
	}
	return ""
}

var durationUnits = map[string]time.Duration{
	"ns": time.Nanosecond, "us": time.Microsecond, "µs": time.Microsecond,
	"ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour,
}

func normalise(num float64, unit string) (float64, Unit, bool) {
	switch {
	case unit == "":
		return num, UnitNone, true
	case unit == "%":
		return num / 100, UnitPercent, true
	case unit == "/s":
		return num, UnitPerSecond, true
	}
	if d, ok := durationUnits[unit]; ok {
		return num * float64(d) / float64(time.Millisecond), UnitDuration, true
	}
	if b, ok := bytesize.Unit(unit); ok {
		return num * b, UnitBytes, true
	}
	return 0, 0, false
}

func unitFits(kind MetricKind, agg Agg, u Unit) string {
	if u == UnitNone {
		return ""
	}
	switch {
	case agg == AggCount || agg == AggReached:
		return "a count takes a plain number"
	case kind == Rotation && u != UnitDuration:
		return "out and back are durations: write e.g. 5s"
	case kind == Trend && u != UnitDuration:
		return "this metric is a duration: write e.g. 100ms or 2s"
	case kind == Ratio && u != UnitPercent:
		return "a rate of errors is a share: write e.g. 1% or 0.01"
	case kind == Counter && u != UnitPerSecond:
		return "a rate of events is per second: write e.g. 500/s"
	}
	return ""
}

func metricList() string {
	names := make([]string, 0, len(Metrics))
	for n := range Metrics {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func aggList(aggs []Agg) string {
	s := make([]string, len(aggs))
	for i, a := range aggs {
		s[i] = string(a)
		if a == AggP {
			s[i] = "p(N)"
		}
	}
	return strings.Join(s, ", ")
}

func containsAgg(list []Agg, a Agg) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
