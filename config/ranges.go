package config

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/chaosload/chaosload/bytesize"
	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/load"
)

// The valid span of every number an experiment holds, by field path ("*"
// stands for a name or an index). Validate checks each number written (zero
// is a field's default and left to the other rules) after every other rule,
// and only where no other rule has spoken, so a field gets one message; the
// decoder names the same span when a number does not even fit its Go type.
// A test walks the schema's types and fails on a number without a span.
// The spans of the data-path and protocol faults' fields are package
// faults' limits, which faults.CheckSpec applies (and reports first).

// The outer bounds shared by several fields.
const (
	maxSpan     = 7 * 24 * time.Hour // a timeline: a week of load, faults and recovery
	maxWait     = time.Hour          // a timeout, a think time, an injected delay
	maxVUs      = 1_000_000          // VUs or connections of one scenario or fault
	maxPerSec   = 1_000_000          // iterations or messages one scenario paces per second
	maxBody     = 1 << 30            // a request body
	maxRateBps  = 1e12               // an io-limit byte rate (1 TB/s: no limit at all)
	maxReplicas = 1024               // the replicas of one target
)

// numKind says how a number is written, for messages.
type numKind int

const (
	numPlain    numKind = iota
	numDuration         // nanoseconds, written as a duration
	numShare            // a fraction, written as a percentage
	numBytes            // bytes
	numByteRate         // bytes per second
	numPerUnit          // iterations per timeUnit, bounded per second
)

// span is the closed interval [lo, hi] a number must lie in.
type span struct {
	lo, hi float64
	kind   numKind
}

func durations(lo, hi time.Duration) span { return span{float64(lo), float64(hi), numDuration} }
func counts(lo, hi float64) span          { return span{lo, hi, numPlain} }

// numberSpans maps the path of every number of the schema to its span.
var numberSpans = map[string]span{
	"seed":            counts(math.MinInt64, math.MaxInt64),
	"version":         counts(Version, Version),
	"warmup":          durations(0, maxSpan),
	"recovery.within": durations(0, maxSpan),
	"recovery.hold":   durations(0, maxSpan),
	"recovery.window": durations(time.Second/4, time.Hour), // at least one recorder interval

	"scenarios.*.vus":                          counts(1, maxVUs),
	"scenarios.*.duration":                     durations(time.Millisecond, maxSpan),
	"scenarios.*.stages.*.duration":            durations(0, maxSpan),
	"scenarios.*.stages.*.target":              counts(0, maxPerSec*86400), // VUs (rampingVUs bounds them) or a rate per timeUnit
	"scenarios.*.startVUs":                     counts(0, maxVUs),
	"scenarios.*.gracefulRampDown":             durations(0, maxWait),
	"scenarios.*.rate":                         {1e-6, maxPerSec * 86400, numPerUnit}, // per timeUnit ≤ 24h; per second: arrivalRate
	"scenarios.*.timeUnit":                     durations(time.Millisecond, 24*time.Hour),
	"scenarios.*.preAllocatedVUs":              counts(1, maxVUs),
	"scenarios.*.maxVUs":                       counts(1, maxVUs),
	"scenarios.*.startRate":                    {0, maxPerSec * 86400, numPerUnit},
	"scenarios.*.iterations":                   counts(1, 1e9),
	"scenarios.*.maxDuration":                  durations(time.Millisecond, maxSpan),
	"scenarios.*.startTime":                    durations(0, maxSpan),
	"scenarios.*.gracefulStop":                 durations(0, maxWait),
	"scenarios.*.steps.*.think":                durations(0, maxWait),
	"scenarios.*.steps.*.http.bodySize":        {1, maxBody, numBytes},
	"scenarios.*.steps.*.http.timeout":         durations(time.Millisecond, maxWait),
	"scenarios.*.steps.*.http.expect.status.*": counts(100, 599),
	"scenarios.*.steps.*.ws.hold":              durations(0, maxSpan),
	"scenarios.*.steps.*.ws.connectTimeout":    durations(time.Millisecond, maxWait),
	"scenarios.*.steps.*.ws.send.rate":         counts(1e-3, maxPerSec),
	"scenarios.*.steps.*.ws.expect.timeout":    durations(time.Millisecond, maxWait),
	"scenarios.*.steps.*.pg.timeout":           durations(time.Millisecond, maxWait),
	"scenarios.*.steps.*.pg.poolSize":          counts(1, 10_000),
	"scenarios.*.steps.*.redis.db":             counts(0, 1<<20),
	"scenarios.*.steps.*.redis.repeat":         counts(1, 1_000_000),
	"scenarios.*.steps.*.redis.timeout":        durations(time.Millisecond, maxWait),
	"scenarios.*.steps.*.redis.poolSize":       counts(1, 10_000),

	"targets.*.backShare":            {0.01, 1, numShare},
	"faults.*.select.count":          counts(1, maxReplicas),
	"faults.*.select.percent":        counts(0.01, 100),
	"faults.*.select.index.*":        counts(0, maxReplicas-1),
	"faults.*.recovery.within":       durations(0, maxSpan), // an episode's own recovery
	"faults.*.recovery.hold":         durations(0, maxSpan),
	"faults.*.recovery.window":       durations(time.Second/4, time.Hour),
	"faults.*.startTime":             durations(0, maxSpan),
	"faults.*.duration":              durations(time.Millisecond, maxSpan),
	"faults.*.toxicity":              {0, 1, numShare},
	"faults.*.latency":               durations(0, faults.MaxWait),
	"faults.*.jitter":                durations(0, faults.MaxWait),
	"faults.*.rate.share":            {0, 1, numShare},
	"faults.*.rate.perSecond":        {1, faults.MaxByteRate, numByteRate},
	"faults.*.delay":                 durations(0, faults.MaxWait),
	"faults.*.timeout":               durations(0, faults.MaxWait),
	"faults.*.size":                  {1, faults.MaxSliceSize, numBytes},
	"faults.*.sizeVariation":         {0, faults.MaxSliceSize, numBytes},
	"faults.*.bytes":                 {1, faults.MaxBytes, numBytes},
	"faults.*.rto":                   durations(faults.MinRTO, faults.MaxRTO),
	"faults.*.max":                   counts(1, faults.MaxConns),
	"faults.*.leaveFree":             counts(0, faults.MaxSlots),
	"faults.*.reserved":              counts(0, faults.MaxSlots), // superuser-reserved slots left free
	"faults.*.probability":           {0, 1, numShare},
	"faults.*.status":                counts(100, 599),
	"faults.*.pid":                   counts(1, 1<<22), // Linux's pid_max limit
	"faults.*.cpus":                  counts(0.001, 64),
	"faults.*.cores":                 counts(1, 1024),
	"faults.*.fill":                  {0, 1, numShare},
	"faults.*.readRate.share":        {0, 1, numShare},
	"faults.*.readRate.perSecond":    {1, maxRateBps, numByteRate},
	"faults.*.writeRate.share":       {0, 1, numShare},
	"faults.*.writeRate.perSecond":   {1, maxRateBps, numByteRate},
	"stack.postgresDisk":             {32 << 20, 1 << 40, numBytes},
	"stack.replicas":                 counts(1, MaxReplicas),
	"stack.services.*.backoff":       durations(0, maxWait),
	"stack.services.*.ready.timeout": durations(time.Millisecond, maxWait),
	"verify.*.http.expect":           counts(100, 599),
	"monitor.pids.*":                 counts(1, 1<<22), // Linux's pid_max limit
	"monitor.every":                  durations(100*time.Millisecond, time.Hour),
	"monitor.trend":                  durations(time.Second, 24*time.Hour),
	"probes.*.expect":                counts(100, 599),
	"probes.*.every":                 durations(time.Millisecond, time.Hour),
	"probes.*.timeout":               durations(time.Millisecond, maxWait),
	"stress.from":                    counts(1e-3, maxVUs),
	"stress.step":                    counts(1e-3, maxVUs),
	"stress.to":                      counts(1e-3, maxVUs),
	"stress.levels.*":                counts(1e-3, maxVUs),
	"stress.every":                   durations(time.Second, 24*time.Hour),
	"stress.settle":                  durations(0, 24*time.Hour),
	"stress.maxVUs":                  counts(1, maxVUs),
	"stress.recoverAt":               counts(0, maxVUs),
	"stress.minCapacity":             counts(0, maxVUs),
}

// ranges reports the numbers outside their span that no other rule
// reported.
func (c *checker) ranges() {
	walkNumbers(reflect.ValueOf(c.e).Elem(), "", "", func(path, pattern string, n float64) {
		s, ok := numberSpans[pattern]
		if !ok || n == 0 || c.reported[path] {
			return
		}
		if math.IsNaN(n) || n < s.lo || n > s.hi {
			c.errorf(path, "%s is out of range; valid: %s", s.render(n), s)
		}
	})
}

// validSpan renders the span of the field at path, for the decoder's
// messages about a number that does not fit type t; the type's own range
// when the field has no span (a number outside the schema: a bug).
func validSpan(path string, t reflect.Type) string {
	if s, ok := numberSpans[pathPattern(path)]; ok {
		return s.String()
	}
	return "a number that fits " + t.String()
}

// String renders the span: "1 to 1000000", "1ms to 1h0m0s", "0% to 100%".
func (s span) String() string {
	switch {
	case s.kind == numPerUnit:
		return fmt.Sprintf("above 0, up to %d per second (rate × 1s / timeUnit)", maxPerSec)
	case s.lo == s.hi:
		return "only " + s.render(s.lo)
	case s.lo == math.MinInt64 && s.hi == math.MaxInt64:
		return "a whole number from -9223372036854775808 to 9223372036854775807"
	}
	return s.render(s.lo) + " to " + s.render(s.hi)
}

// render writes n as the field is written.
func (s span) render(n float64) string {
	switch s.kind {
	case numDuration:
		return time.Duration(n).String()
	case numShare:
		return strconv.FormatFloat(n*100, 'g', -1, 64) + "%"
	case numBytes, numByteRate:
		r := strconv.FormatFloat(n, 'f', -1, 64) + "B"
		if n == math.Trunc(n) && n >= 0 && n <= bytesize.Max {
			r = bytesize.Size(n).String()
		}
		if s.kind == numByteRate {
			r += "/s"
		}
		return r
	}
	return strconv.FormatFloat(n, 'f', -1, 64)
}

// withSpan adds the span of the number at path to a message that bounds
// it on one side ("must not be negative", "is required and must be
// positive"), so every message about a number says what is valid.
func withSpan(path, msg string) string {
	s, ok := numberSpans[pathPattern(path)]
	if !ok || !boundsOneSide(msg) {
		return msg
	}
	return msg + "; valid: " + s.String()
}

// boundsOneSide reports whether a message states a one-sided bound and no
// range.
func boundsOneSide(msg string) bool {
	if strings.Contains(msg, "valid") || strings.Contains(msg, "between") {
		return false
	}
	return strings.HasPrefix(msg, "must not be negative") || strings.HasPrefix(msg, "must be positive") ||
		strings.HasPrefix(msg, "is required and must be positive") || strings.HasPrefix(msg, "must be at least 1")
}

// Types the number walk treats as one number (or two: a rate).
var (
	rateType       = reflect.TypeFor[faults.Rate]()
	thinkType      = reflect.TypeFor[load.Think]()
	schemaTypeSkip = map[reflect.Type]bool{thresholdsType: true, reflect.TypeFor[load.DataSet](): true}
)

// walkNumbers calls fn with every number of v: its field path, the path's
// pattern (names and indices as "*") and its value, following the
// decoder's layout as walkStrings does.
func walkNumbers(v reflect.Value, path, pattern string, fn func(path, pattern string, n float64)) {
	t := v.Type()
	switch {
	case schemaTypeSkip[t]:
	case t == rateType:
		r := v.Interface().(faults.Rate)
		fn(path, pattern+".share", r.Share)
		fn(path, pattern+".perSecond", r.PerSecond)
	case t == thinkType:
		fn(path, pattern, float64(v.Interface().(load.Think).Max))
	case isNumber(t.Kind()):
		fn(path, pattern, numberOf(v))
	case t.Kind() == reflect.Pointer:
		if !v.IsNil() {
			walkNumbers(v.Elem(), path, pattern, fn)
		}
	case t.Kind() == reflect.Struct:
		for _, f := range fieldsOf(t) {
			walkNumbers(v.FieldByIndex(f.index), join(path, f.name), join(pattern, f.name), fn)
		}
	case t.Kind() == reflect.Slice:
		named := isNamed(t.Elem())
		for i := 0; i < v.Len(); i++ {
			key := strconv.Itoa(i)
			if named {
				key = v.Index(i).FieldByName("Name").String()
			}
			walkNumbers(v.Index(i), join(path, key), join(pattern, "*"), fn)
		}
	}
}

// numberPatterns lists the patterns of every number type t can hold,
// for the test that every one has a span.
func numberPatterns(t reflect.Type, pattern string, out map[string]bool) {
	switch {
	case schemaTypeSkip[t]:
	case t == rateType:
		out[pattern+".share"], out[pattern+".perSecond"] = true, true
	case t == thinkType || isNumber(t.Kind()):
		out[pattern] = true
	case t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice:
		p := pattern
		if t.Kind() == reflect.Slice {
			p = join(pattern, "*")
		}
		numberPatterns(t.Elem(), p, out)
	case t.Kind() == reflect.Struct:
		for _, f := range fieldsOf(t) {
			numberPatterns(t.FieldByIndex(f.index).Type, join(pattern, f.name), out)
		}
	}
}

// pathPattern turns a field path into its pattern: the segments that are
// names or indices become "*".
func pathPattern(path string) string {
	return patternOf(reflect.TypeFor[Experiment](), path)
}

func isNumber(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

func numberOf(v reflect.Value) float64 {
	switch {
	case v.CanInt():
		return float64(v.Int())
	case v.CanUint():
		return float64(v.Uint())
	}
	return v.Float()
}

// patternOf is pathPattern below type t.
func patternOf(t reflect.Type, path string) string {
	var out []string
	for _, seg := range strings.Split(path, ".") {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch {
		case t == rateType:
			return strings.Join(append(out, seg), ".") // share or perSecond
		case t.Kind() == reflect.Slice || t.Kind() == reflect.Map:
			out, t = append(out, "*"), t.Elem()
		case t.Kind() == reflect.Struct:
			f, ok := fieldNamed(fieldsOf(t), seg)
			if !ok {
				return ""
			}
			out, t = append(out, seg), t.FieldByIndex(f.index).Type
		default:
			return ""
		}
	}
	return strings.Join(out, ".")
}
