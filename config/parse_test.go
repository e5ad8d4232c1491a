package config

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/load"
)

// th parses one threshold for an expected value (its Pos left out).
func th(tb testing.TB, key, expr string) Threshold {
	tb.Helper()
	ref, err := ParseMetricRef(key)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := ParseCondition(ref.Kind, expr)
	if err != nil {
		tb.Fatal(err)
	}
	return Threshold{Metric: ref, Cond: c, Key: key}
}

// wantDBExhaustion is testdata/db-exhaustion.yaml (the bundled
// db-exhaustion experiment) as Parse returns it, defaults filled in.
func wantDBExhaustion(tb testing.TB) *Experiment {
	step := func(name, method, path string, think time.Duration) load.Step {
		return load.Step{Name: name, Target: "api", Think: load.Think{Min: think, Max: think},
			HTTP: &load.HTTPRequest{Method: method, URL: "http://${targets.api}" + path, Timeout: load.DefaultHTTPTimeout}}
	}
	order := step("order", "POST", "/api/orders", 200*time.Millisecond)
	order.Ack = "id"
	order.HTTP.JSON = map[string]any{"product": 1, "qty": 1}
	return &Experiment{
		File:    "testdata/db-exhaustion.yaml",
		Version: 1,
		Name:    "db-exhaustion",
		Description: "PostgreSQL runs out of connections while 100 users shop. The API must shed load with 503s " +
			"(never 500s, never hangs) and be back to steady state within 30 s of the fault ending.\n",
		Stack: &Stack{Name: "demo", Mode: "graceful"},
		Targets: []Target{
			{Name: "api", Upstream: "${stack.api}", Listen: DefaultListen, Protocol: "http"},
			{Name: "postgres", Upstream: "${stack.postgres}", Listen: DefaultListen, Protocol: "postgres",
				DSN: "postgres://postgres@${stack.postgres}/shop"},
			{Name: "redis", Upstream: "${stack.redis}", Listen: DefaultListen, Protocol: "redis"},
		},
		Scenarios: []load.Scenario{{
			Name: "shoppers", Executor: load.ConstantArrivalRate, Rate: 200, TimeUnit: time.Second,
			Duration: 120 * time.Second, PreAllocatedVUs: 50, MaxVUs: 400, GracefulStop: ptr(load.DefaultGracefulStop),
			Steps: []load.Step{step("browse", "GET", "/api/products", 100*time.Millisecond), order},
		}},
		Warmup:     ptr(DefaultWarmup),
		Thresholds: Thresholds{th(tb, "latency", "p(95) < 100ms"), th(tb, "errors", "rate < 1%")},
		Faults: []Fault{
			{Fault: faults.Fault{Name: "pg-connections-exhausted", Target: "postgres", Kind: faults.PoolExhaustion,
				StartTime: 40 * time.Second, Duration: 30 * time.Second}},
			{Fault: faults.Fault{Name: "drop-app-connections", Target: "postgres", Kind: faults.Reset, StartTime: 40 * time.Second}},
		},
		Degradation: Thresholds{th(tb, "errors", "rate < 60%"), th(tb, "latency", "p(99) < 2s"),
			th(tb, "errors{class:http_5xx}", "count == 0")},
		Recovery: Recovery{Within: 30 * time.Second, Hold: 10 * time.Second, Window: 5 * time.Second},
		Abort:    Thresholds{th(tb, "errors", "rate > 95% for 15s")},
		Verify:   []Verify{{Acknowledged: "order", Target: "postgres", Exists: "SELECT 1 FROM orders WHERE id = $1"}},
	}
}

// TestParseDesignExample decodes testdata/db-exhaustion.yaml to the expected
// structs, with positions recorded for later checks.
func TestParseDesignExample(t *testing.T) {
	t.Parallel()
	got, err := Load("testdata/db-exhaustion.yaml", Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ts := range []Thresholds{got.Thresholds, got.Degradation, got.Abort} {
		for i := range ts {
			ts[i].Pos = Pos{}
		}
	}
	pos := got.pos
	got.pos = nil
	want := wantDBExhaustion(t)
	v, w := reflect.ValueOf(got).Elem(), reflect.ValueOf(want).Elem()
	for i := 0; i < v.NumField(); i++ {
		if f := v.Type().Field(i); f.IsExported() && !reflect.DeepEqual(v.Field(i).Interface(), w.Field(i).Interface()) {
			t.Errorf("%s:\n got %+v\nwant %+v", f.Name, v.Field(i).Interface(), w.Field(i).Interface())
		}
	}
	for path, want := range map[string]string{
		"faults.0.target":             "40:13",
		"scenarios.shoppers.duration": "22:15",
		"targets.postgres.upstream":   "13:24",
		"scenarios.shoppers.steps.1":  "29:9",
		"recovery.within":             "55:11",
	} {
		if p := pos[path]; p.String() != "testdata/db-exhaustion.yaml:"+want {
			t.Errorf("pos[%q] = %v, want line:col %s", path, p, want)
		}
	}
}

// TestDefaults checks every default Parse fills in.
func TestDefaults(t *testing.T) {
	t.Parallel()
	e := mustParse(t, base+"stack: {name: demo}\n", Options{})
	tgt, s, st := e.Targets[0], e.Scenarios[0], e.Scenarios[0].Steps[0]
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"listen", tgt.Listen, "127.0.0.1:0"},                         // a free loopback port
		{"protocol", tgt.Protocol, "tcp"},                             // plain TCP
		{"mode", e.Stack.Mode, "graceful"},                            // the demo's safe mode
		{"gracefulStop", *s.GracefulStop, 30 * time.Second},           // k6's default
		{"method", st.HTTP.Method, "GET"},                             // like curl
		{"timeout", st.HTTP.Timeout, load.DefaultHTTPTimeout},         // bounded requests
		{"step name", st.Name, "GET /"},                               // method and path
		{"step target", st.Target, "api"},                             // from ${targets.api}
		{"within", e.Recovery.Within, 30 * time.Second},               // the documented defaults
		{"hold", e.Recovery.Hold, 10 * time.Second},                   //
		{"window", e.Recovery.Window, 5 * time.Second},                //
		{"warmup", *e.Warmup, 5 * time.Second},                        //
		{"seed", e.Seed, int64(0)},                                    // drawn at run time
		{"timeUnit (not arrival rate)", s.TimeUnit, time.Duration(0)}, // only arrival-rate executors get one
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	ar := mustParse(t, edit("executor: constant-vus\n    vus: 1\n", "executor: constant-arrival-rate\n    rate: 5\n    preAllocatedVUs: 7\n"), Options{})
	if s := ar.Scenarios[0]; s.TimeUnit != time.Second || s.MaxVUs != 7 {
		t.Errorf("arrival rate: timeUnit %v, maxVUs %d; want 1s and preAllocatedVUs (7)", s.TimeUnit, s.MaxVUs)
	}
	rv := mustParse(t, edit("executor: constant-vus\n    vus: 1\n    duration: 10s\n", "executor: ramping-vus\n    stages: [{duration: 10s, target: 5}]\n"), Options{})
	if s := rv.Scenarios[0]; *s.StartVUs != 1 || *s.GracefulRampDown != 30*time.Second {
		t.Errorf("ramping-vus: startVUs %d, gracefulRampDown %v; want 1 and 30s", *s.StartVUs, *s.GracefulRampDown)
	}
}

// TestErrorRendering checks Error, Errors and Pos formats.
func TestErrorRendering(t *testing.T) {
	t.Parallel()
	_, err := Parse("e.yaml", []byte(edit("vus: 1", "vus: x")), Options{Sets: []string{"name=[1]"}})
	want := "e.yaml:8:10: scenarios.s.vus: want a whole number, got the string \"x\"\n" +
		"--set name=[1]: name: want a string, got a list"
	if err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
	if s := (Pos{File: "f", Line: 3}).String(); s != "f:3" {
		t.Errorf("Pos without column = %q, want f:3", s)
	}
	if _, err := Load("testdata/does-not-exist.yaml", Options{}); err == nil || !strings.Contains(err.Error(), "read experiment") {
		t.Errorf("Load of a missing file: %v", err)
	}
}
