package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// quickScaled are the durations Quick scales (README's --quick sentence:
// scenario durations, stages, start times, gracefulStop, WebSocket hold,
// faults, warm-up, recovery, stress levels), quickKept those it leaves as
// written, each with the reason. Every duration of the schema is in one of
// the two (TestQuickDecidesEveryDuration).
var (
	quickScaled = []string{
		"scenarios.*.duration", "scenarios.*.startTime", "scenarios.*.maxDuration",
		"scenarios.*.stages.*.duration", "scenarios.*.gracefulStop", "scenarios.*.gracefulRampDown",
		"scenarios.*.steps.*.ws.hold",
		"faults.*.startTime", "faults.*.duration",
		"faults.*.recovery.within", "faults.*.recovery.hold", "faults.*.recovery.window",
		"warmup", "recovery.within", "recovery.hold", "recovery.window",
		"stress.every", "stress.settle",
	}
	quickKept = map[string]string{
		"faults.*.latency": "the fault's magnitude", "faults.*.jitter": "the fault's magnitude",
		"faults.*.delay": "the fault's magnitude", "faults.*.timeout": "the fault's magnitude",
		"faults.*.rto":                          "the fault's magnitude",
		"scenarios.*.timeUnit":                  "it sets a rate",
		"scenarios.*.steps.*.think":             "the load's shape",
		"scenarios.*.steps.*.http.timeout":      "a client's patience",
		"scenarios.*.steps.*.ws.connectTimeout": "a client's patience",
		"scenarios.*.steps.*.ws.expect.timeout": "a client's patience",
		"scenarios.*.steps.*.pg.timeout":        "a client's patience",
		"scenarios.*.steps.*.redis.timeout":     "a client's patience",
		"probes.*.every":                        "a sampling period",
		"probes.*.timeout":                      "a client's patience",
		"monitor.every":                         "a sampling period",
		"monitor.trend":                         "how long the memory trend is measured (it floors the scenarios: TestQuickKeepsTheTrend)",
		"stack.services.*.ready.timeout":        "a real process starts no faster",
		"stack.services.*.backoff":              "a real process starts no faster",
	}
)

// TestQuickDecidesEveryDuration walks the schema's types: every duration
// an experiment can hold is either scaled by Quick or kept with a reason,
// so a duration added later cannot slip past --quick undecided.
func TestQuickDecidesEveryDuration(t *testing.T) {
	t.Parallel()
	found := map[string]bool{}
	durationPatterns(reflect.TypeFor[Experiment](), "", found)
	decided := map[string]bool{}
	for _, p := range quickScaled {
		decided[p] = true
	}
	for p := range quickKept {
		decided[p] = true
	}
	undecided, stale := keysDiff(found, decided)
	if len(undecided) > 0 || len(stale) > 0 {
		t.Fatalf("durations --quick does not decide on: %v; decisions on no duration: %v", undecided, stale)
	}
}

// durationPatterns collects the pattern of every duration type t holds.
func durationPatterns(t reflect.Type, pattern string, out map[string]bool) {
	switch {
	case t == thresholdsType: // abort's `for` is a condition's: kept, see Quick
	case t == durationType || t == thinkType:
		out[pattern] = true
	case t.Kind() == reflect.Pointer:
		durationPatterns(t.Elem(), pattern, out)
	case t.Kind() == reflect.Slice:
		durationPatterns(t.Elem(), join(pattern, "*"), out)
	case t.Kind() == reflect.Struct:
		for _, f := range fieldsOf(t) {
			durationPatterns(t.FieldByIndex(f.index).Type, join(pattern, f.name), out)
		}
	}
}

// quickFile sets every duration of the schema that a file without stress
// can hold, long enough that the tenth of most is above the floor.
const quickFile = `version: 1
name: quick
stack:
  services:
    app:
      command: [app]
      ready: {tcp: "127.0.0.1:7000", timeout: 40s}
      backoff: 2s
targets:
  api: {upstream: "127.0.0.1:7000", protocol: http}
  pg: {upstream: "127.0.0.1:7001", protocol: postgres, dsn: "postgres://u@127.0.0.1:7001/db"}
scenarios:
  open:
    executor: constant-arrival-rate
    rate: 10
    timeUnit: 2s
    duration: 120s
    startTime: 3s
    gracefulStop: 20s
    preAllocatedVUs: 2
    steps:
      - name: get
        http: {url: "http://${targets.api}/", timeout: 4s}
        think: 300ms
      - name: feed
        ws: {url: "ws://${targets.api}/ws", hold: 30s, connectTimeout: 3s}
  ramp:
    executor: ramping-vus
    stages: [{duration: 60s, target: 5}, {duration: 60s, target: 0}]
    gracefulRampDown: 10s
    steps:
      - name: q
        pg: {dsn: "postgres://u@${targets.pg}/db", query: "SELECT 1", timeout: 2s}
  iters:
    executor: per-vu-iterations
    maxDuration: 100s
    steps:
      - name: get2
        http: {url: "http://${targets.api}/"}
        think: 2s
warmup: 10s
thresholds:
  latency: ["p(95) < 100ms"]
faults:
  - {name: slow, target: api, kind: latency, latency: 400ms, jitter: 50ms, startTime: 30s, duration: 20s,
     recovery: {within: 20s, hold: 4s, window: 3s}}
  - {name: lossy, target: api, kind: loss, rate: 5%, rto: 300ms, startTime: 30s, duration: 20s}
  - {name: hole, target: api, kind: timeout, timeout: 10s, startTime: 40s, duration: 4s}
  - {name: dial, target: api, kind: connect-delay, delay: 2s, startTime: 42s, duration: 300ms}
recovery: {within: 30s, hold: 10s, window: 5s}
abort:
  errors: ["rate > 95% for 15s"]
probes:
  up: {tcp: "127.0.0.1:7000", every: 2s, timeout: 3s}
monitor: {pids: [1], every: 2s}
`

// quickStress is a stress file: its levels and settle are scaled.
const quickStress = `version: 1
name: quick-stress
scenarios:
  s:
    executor: constant-vus
    vus: 1
    duration: 60s
    steps:
      - name: get
        http: {url: "http://127.0.0.1:7000/"}
thresholds:
  latency: ["p(95) < 100ms"]
stress: {from: 10, step: 10, to: 50, every: 30s, settle: 8s}
recovery: {within: 30s, hold: 10s, window: 5s}
`

// TestQuickScalesTheTimeline: Quick scales each duration of the timeline
// to a tenth, at least 0.5 s unless it was shorter already, never longer;
// every other duration is kept; the copy is valid and the caller's
// experiment is unchanged.
func TestQuickScalesTheTimeline(t *testing.T) {
	t.Parallel()
	for _, src := range []string{quickFile, quickStress} {
		e := mustParse(t, src, Options{})
		before := durationsOf(e)
		q, err := e.Quick(QuickFactor)
		if err != nil {
			t.Fatalf("Quick: %v", err)
		}
		if after := durationsOf(e); !reflect.DeepEqual(after, before) {
			t.Errorf("Quick changed the caller's experiment: %v, was %v", after, before)
		}
		scaled := map[string]bool{}
		for _, p := range quickScaled {
			scaled[p] = true
		}
		for path, got := range durationsOf(q) {
			d := before[path]
			want := d.v
			if scaled[d.pattern] && d.v > 0 {
				want = max(d.v/10, min(d.v, QuickFloor))
			}
			switch {
			case got.v != want:
				t.Errorf("%s: %v became %v, want %v", path, d.v, got.v, want)
			case got.v > d.v:
				t.Errorf("%s: %v lengthened to %v", path, d.v, got.v)
			}
		}
	}
}

// TestQuickCases: the floor, the factor's range, and a file --quick makes
// invalid.
func TestQuickCases(t *testing.T) {
	t.Parallel()
	e := mustParse(t, quickFile, Options{})
	q, err := e.Quick(QuickFactor)
	if err != nil {
		t.Fatal(err)
	}
	// 20 s of fault, scaled to 2 s; 5 s of window floored at 0.5 s; a 300
	// ms duration, under the floor already, kept
	if got := q.Faults[0].Duration; got != 2*time.Second {
		t.Errorf("fault duration %v, want 2s", got)
	}
	if got := q.Recovery.Window; got != QuickFloor {
		t.Errorf("window %v, want the floor %v", got, QuickFloor)
	}
	if got := q.Faults[3].Duration; got != 300*time.Millisecond {
		t.Errorf("a 300ms duration became %v", got)
	}
	// the open scenario's 3 s start floored, its 120 s a tenth
	if got, want := q.PlannedSpan(), QuickFloor+12*time.Second; got != want {
		t.Errorf("PlannedSpan %v after Quick, want %v (of %v)", got, want, e.PlannedSpan())
	}
	// a factor that would lengthen, or none
	for _, f := range []float64{0, -1, 1.5} {
		if _, err := e.Quick(f); err == nil || !strings.Contains(err.Error(), "at most 1") {
			t.Errorf("Quick(%g): %v, want an error", f, err)
		}
	}
	// at a hundredth the floor keeps the recovery observation at 1.5 s
	// while the load after the last fault shrinks to 0.7 s: the copy is
	// invalid, and Quick says why, at the file's position
	_, err = e.Quick(0.01)
	if err == nil || !strings.Contains(err.Error(), "x.yaml:") || !strings.Contains(err.Error(), "1.5s") {
		t.Errorf("Quick(0.01): %v, want the observation period refused", err)
	}
}

// TestQuickKeepsTheTrend: a file with monitor.trend keeps its warm-up, and
// each scenario at least warm-up + trend + one sampling period (or its own
// length when shorter); its other durations are scaled as usual.
func TestQuickKeepsTheTrend(t *testing.T) {
	t.Parallel()
	e := mustParse(t, `version: 1
name: trend
targets:
  api: {upstream: "127.0.0.1:7000", protocol: http}
scenarios:
  long: {executor: constant-vus, vus: 1, duration: 180s, steps: [{name: a, http: {url: "http://${targets.api}/"}}]}
  short: {executor: constant-vus, vus: 1, duration: 30s, steps: [{name: b, http: {url: "http://${targets.api}/"}}]}
warmup: 10s
thresholds:
  latency: ["p(95) < 100ms"]
monitor: {pids: [1], trend: 60s}
`, Options{})
	q, err := e.Quick(QuickFactor)
	if err != nil {
		t.Fatal(err)
	}
	if *q.Warmup != 10*time.Second {
		t.Errorf("warm-up %v, want 10s kept", *q.Warmup)
	}
	// 180 s: 10 s warm-up + 60 s trend + 1 s sampling; 30 s: under the
	// floor already, so kept as it was (never lengthened)
	for i, want := range []time.Duration{71 * time.Second, 30 * time.Second} {
		if got := q.Scenarios[i].Duration; got != want {
			t.Errorf("scenario %s: %v, want %v", q.Scenarios[i].Name, got, want)
		}
	}
	if e.Scenarios[0].Duration != 180*time.Second || *e.Warmup != 10*time.Second {
		t.Errorf("Quick changed the caller's experiment")
	}
}

// timed is a duration found at a path, with the path's pattern.
type timed struct {
	pattern string
	v       time.Duration
}

// durationsOf returns every duration of e by field path.
func durationsOf(e *Experiment) map[string]timed {
	decided := map[string]bool{}
	for _, p := range quickScaled {
		decided[p] = true
	}
	for p := range quickKept {
		decided[p] = true
	}
	out := map[string]timed{}
	walkNumbers(reflect.ValueOf(e).Elem(), "", "", func(path, pattern string, n float64) {
		if decided[pattern] {
			out[path] = timed{pattern, time.Duration(n)}
		}
	})
	return out
}
