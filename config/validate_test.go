package config

import (
	"strings"
	"testing"
)

// chaos is a valid experiment with a fault timeline, thresholds and a
// verify; rows edit it or append to it (appended sections start at line 28).
const chaos = `version: 1
name: c
targets:
  api: {upstream: "127.0.0.1:8080", protocol: http}
  pg: {upstream: "127.0.0.1:5432", protocol: postgres, dsn: "postgres://u@127.0.0.1:5432/shop"}
scenarios:
  s:
    executor: constant-arrival-rate
    rate: 10
    duration: 120s
    preAllocatedVUs: 5
    steps:
      - name: order
        http: {method: POST, url: "http://${targets.api}/orders", json: {qty: 1}}
        ack: id
thresholds:
  latency: ["p(95) < 100ms"]
faults:
  - name: exhaust
    target: pg
    kind: pool-exhaustion
    startTime: 10s
    duration: 30s
verify:
  - acknowledged: order
    target: pg
    exists: "SELECT 1 FROM orders WHERE id = $1"
`

// editChaos returns chaos with the first old replaced by new.
func editChaos(old, new string) string {
	if !strings.Contains(chaos, old) {
		panic("editChaos: " + old + " is not in chaos")
	}
	return strings.Replace(chaos, old, new, 1)
}

// TestValidateErrors covers every validation rule, each problem at the
// line:col of the offending field (or of its closest written ancestor).
func TestValidateErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []string // "line:col substring", in order
	}{
		// version is required (reported at the top mapping)
		{"version missing", edit("version: 1", "# v"), []string{`2:1 version: is required; write version: 1`}},
		// only version 1 exists
		{"version 2", edit("version: 1", "version: 2"), []string{`1:10 version: unsupported version 2; this chaosload reads version 1`}},
		// name is required
		{"name empty", edit("name: t", `name: ""`), []string{`2:7 name: is required`}},
		// unknown stack and mode, with suggestions
		{"stack", base + "stack: {name: demo2, mode: nive}\n", []string{
			`12:15 stack.name: unknown stack "demo2" (did you mean "demo"?); valid: demo`,
			`12:28 stack.mode: unknown mode "nive" (did you mean "naive"?); valid: graceful, naive`,
		}},
		// a target's upstream, protocol, dsn and listen, all at once
		{"target fields", edit(`api: {upstream: "127.0.0.1:8080"}`, `api: {upstream: "localhost", protocol: ftp, dsn: "x", listen: "0.0.0.0:80"}`), []string{
			`4:19 targets.api.upstream: want host:port with a port from 1 to 65535, e.g. 127.0.0.1:5432, got "localhost"`,
			`4:42 targets.api.protocol: unknown protocol "ftp"; valid: tcp, http, postgres, redis`,
			`4:52 targets.api.dsn: applies only to postgres targets; this one's protocol is ftp`,
			`4:65 targets.api.listen: "0.0.0.0:80" is not a loopback host:port`,
		}},
		// upstream is required
		{"upstream missing", edit(`api: {upstream: "127.0.0.1:8080"}`, `api: {protocol: http}`),
			[]string{`4:3 targets.api.upstream: is required`}},
		// two targets cannot fix the same port
		{"listen twice", edit(`  api: {upstream: "127.0.0.1:8080"}`,
			"  api: {upstream: \"127.0.0.1:8080\", listen: \"[::1]:7000\"}\n  b: {upstream: \"127.0.0.1:8081\", listen: \"localhost:7000\"}"),
			[]string{`5:43 targets.b.listen: port 7000 is also the listen port of target "api"`}},
		// a target name that cannot be written in ${targets.NAME}
		{"target name", edit("  api:", "  a.b:"), []string{
			`4:3 targets.a.b: target name "a.b" may hold only letters, digits, - and _`,
			`11:29 scenarios.s.steps.0.http.url: unknown target "api" in ${targets.api}; valid targets: a.b`,
		}},
		// at least one scenario
		{"no scenarios", "version: 1\nname: t\n", []string{`1:1 scenarios: at least one scenario is required`}},
		// executor is required
		{"executor missing", edit("executor: constant-vus", "# none"),
			[]string{`6:3 scenarios.s.executor: is required; valid executors: constant-arrival-rate, ramping-arrival-rate, constant-vus, ramping-vus, per-vu-iterations, shared-iterations`}},
		// an unknown executor, with a suggestion
		{"executor unknown", edit("executor: constant-vus", "executor: constant-vu"),
			[]string{`7:15 scenarios.s.executor: unknown executor "constant-vu" (did you mean "constant-vus"?)`}},
		// arrival rate: required fields, and vus is another executor's field
		{"arrival rate fields", edit("executor: constant-vus", "executor: constant-arrival-rate"), []string{
			`6:3 scenarios.s.rate: is required and must be positive`,
			`6:3 scenarios.s.preAllocatedVUs: is required and must be positive`,
			`8:10 scenarios.s.vus: vus is not a field of constant-arrival-rate (its fields: rate, timeUnit, duration, preAllocatedVUs, maxVUs, arrival)`,
		}},
		// maxVUs below preAllocatedVUs
		{"maxVUs", edit("executor: constant-vus\n    vus: 1\n",
			"executor: constant-arrival-rate\n    rate: 5\n    preAllocatedVUs: 10\n    maxVUs: 5\n"),
			[]string{`10:13 scenarios.s.maxVUs: must be at least preAllocatedVUs (10)`}},
		// constant-vus needs vus > 0
		{"vus zero", edit("vus: 1", "vus: 0"), []string{`8:10 scenarios.s.vus: is required and must be positive`}},
		// ramping-vus: stages required; vus and duration are not its fields
		{"ramping fields", edit("executor: constant-vus", "executor: ramping-vus"), []string{
			`6:3 scenarios.s.stages: at least one stage is required`,
			`8:10 scenarios.s.vus: vus is not a field of ramping-vus (its fields: stages, startVUs, gracefulRampDown)`,
			`9:15 scenarios.s.duration: duration is not a field of ramping-vus`,
		}},
		// a stage target must not be negative
		{"stage target", edit("executor: constant-vus\n    vus: 1\n    duration: 10s\n",
			"executor: ramping-vus\n    stages: [{duration: 10s, target: -1}]\n#\n"),
			[]string{`8:38 scenarios.s.stages.0.target: must not be negative`}},
		// at least one step
		{"no steps", edit("    steps:\n      - http: {url: \"http://${targets.api}/\"}\n", "    steps: []\n#\n"),
			[]string{`10:5 scenarios.s.steps: at least one step is required`}},
		// a step with no operation
		{"step without op", edit(`- http: {url: "http://${targets.api}/"}`, `- name: x`),
			[]string{`11:9 scenarios.s.steps.0: a step needs an operation: http`}},
		// url scheme, method and body problems of one http step
		{"http fields", edit(`{url: "http://${targets.api}/"}`, `{url: "ftp://x/", method: GOT, body: b, json: {a: 1}}`), []string{
			`11:21 scenarios.s.steps.0.http.url: want an absolute http:// or https:// URL`,
			`11:41 scenarios.s.steps.0.http.method: unknown method "GOT" (did you mean "GET"?)`,
			`11:52 scenarios.s.steps.0.http.body: json and body are both set; a request has one body`,
		}},
		// url is required
		{"url missing", edit(`{url: "http://${targets.api}/"}`, `{method: GET}`),
			[]string{`11:9 scenarios.s.steps.0.http.url: is required`}},
		// two steps named alike (here by default, after their request)
		{"step names", base + "      - http: {url: \"http://${targets.api}/\"}\n",
			[]string{`12:9 scenarios.s.steps.1.name: step 0 is also called "GET /"`}},
		// an http step through a postgres proxy
		{"step through postgres", editChaos("${targets.api}/orders", "${targets.pg}/orders"),
			[]string{`14:35 scenarios.s.steps.0.http.url: goes through target "pg", whose protocol is postgres`}},
		// an unknown fault kind, with a suggestion
		{"kind unknown", editChaos("kind: pool-exhaustion", "kind: pool-exhaustoin"),
			[]string{`21:11 faults.0.kind: unknown fault kind "pool-exhaustoin"; valid kinds: latency, bandwidth, slow-close, timeout, reset-peer, reset, slicer, limit-data, down, loss, conn-limit, connect-delay, pool-exhaustion, http-error, http-delay, pg-error, pg-delay, redis-error, redis-delay, kill, pause, cpu-limit, memory-limit, io-limit, cpu-hog, memory-hog, disk-fill (did you mean "pool-exhaustion"?)`}},
		// a fault kind is required
		{"kind missing", editChaos("    kind: pool-exhaustion", "    # none"),
			[]string{`19:5 faults.0.kind: is required; valid kinds: latency, bandwidth, slow-close, timeout, reset-peer, reset, slicer, limit-data, down, loss, conn-limit, connect-delay, pool-exhaustion`}},
		// a parameter of another kind (faults.Validate, mapped to its field)
		{"foreign parameter", editChaos("kind: pool-exhaustion", "kind: reset\n    latency: 1s"),
			[]string{`22:14 faults.0.latency: is not a parameter of kind "reset"`}},
		// a required parameter, at the fault when not written
		{"latency missing", editChaos("kind: pool-exhaustion", "kind: latency"),
			[]string{`19:5 faults.0.latency: is required and must be positive`}},
		// the fault's target must exist
		{"fault target unknown", editChaos("    target: pg\n    kind", "    target: pgg\n    kind"),
			[]string{`20:13 faults.0.target: unknown target "pgg" (did you mean "pg"?); valid targets: api, pg`}},
		// pool exhaustion needs a postgres or redis target
		{"pool exhaustion on http", editChaos("    target: pg\n    kind", "    target: api\n    kind"),
			[]string{`20:13 faults.0.target: pool-exhaustion needs a postgres or redis target; "api" has protocol http`}},
		// ...with a dsn, which verify needs too: one problem at the target
		{"dsn missing", editChaos(`, dsn: "postgres://u@127.0.0.1:5432/shop"`, ""),
			[]string{`5:3 targets.pg.dsn: is required: fault "exhaust" (pool-exhaustion) and verify need it to connect`}},
		// reserved counts slots, so it cannot be negative
		{"reserved negative", editChaos("kind: pool-exhaustion", "kind: pool-exhaustion\n    reserved: -1"),
			[]string{`22:15 faults.0.reserved: must not be negative (0 takes the reserved slots too)`}},
		// reserved is a pool-exhaustion parameter
		{"reserved on reset", editChaos("kind: pool-exhaustion", "kind: reset\n    reserved: 0"),
			[]string{`22:15 faults.0.reserved: is not a parameter of kind "reset"`}},
		// Redis reserves no slots
		{"reserved on redis", strings.Replace(editChaos("  pg: {", "  rd: {upstream: \"127.0.0.1:6379\", protocol: redis}\n  pg: {"),
			"    target: pg\n    kind: pool-exhaustion", "    target: rd\n    kind: pool-exhaustion\n    reserved: 0", 1),
			[]string{`23:15 faults.0.reserved: Redis reserves no connection slots for administrators; remove reserved`}},
		// expectEffect is a boolean
		{"expectEffect not a boolean", editChaos("kind: pool-exhaustion", "kind: pool-exhaustion\n    expectEffect: often"),
			[]string{`22:19 faults.0.expectEffect:`}},
		// fault names are unique
		{"fault names", editChaos("verify:", "  - name: exhaust\n    target: api\n    kind: down\n    startTime: 10s\n    duration: 5s\nverify:"),
			[]string{`24:11 faults.1.name: faults.0 is also called "exhaust"`}},
		// a fault after the load (and so no time to recover)
		{"fault after load", editChaos("startTime: 10s", "startTime: 130s"), []string{
			`1:1 recovery.within: the load ends at 2m0s, but recovery after the last episode (fault "exhaust", ends at 2m40s)`,
			`22:16 faults.0.startTime: the fault starts at 2m10s, but the load ends at 2m0s`,
		}},
		// a fault during the warm-up leaves no baseline
		{"fault in warm-up", editChaos("startTime: 10s", "startTime: 2s"),
			[]string{`22:16 faults.0.startTime: the fault starts at 2s, during the warm-up (5s)`}},
		// the observation period, reported at recovery.within when written
		{"observation", chaos + "recovery: {within: 80s}\n",
			[]string{`28:20 recovery.within: the load ends at 2m0s, but recovery after the last episode (fault "exhaust", ends at 40s) is observed for within 1m20s + hold 10s + window 5s = 1m35s, so the load must run until at least 2m15s; lengthen the load (e.g. --set scenarios.s.duration=2m15s)`}},
		// ...and at the top when not
		{"observation default", editChaos("duration: 120s", "duration: 60s"),
			[]string{`1:1 recovery.within: the load ends at 1m0s, but recovery after the last episode (fault "exhaust", ends at 40s) is observed for within 30s + hold 10s + window 5s = 45s, so the load must run until at least 1m25s`}},
		// ...and per episode: a fault's own recovery lengthens its episode's
		{"observation of a fault's own recovery", editChaos("    duration: 30s\n", "    duration: 30s\n    recovery: {hold: 50s}\n"),
			[]string{`24:5 faults.0.recovery: the load ends at 2m0s, but recovery after the last episode (fault "exhaust", ends at 40s) is observed for within 30s + hold 50s + window 5s = 1m25s, so the load must run until at least 2m5s`}},
		// a fault's own degradation and recovery are checked like the file's
		{"fault's own judging", editChaos("    duration: 30s\n", "    duration: 30s\n    degradation: {latency: [\"p(99) < 2s for 5s\"]}\n    recovery: {within: -1s, windw: 2s}\n"), []string{
			`24:29 faults.0.degradation.latency: in "p(99) < 2s for 5s": "for" applies only to abort conditions; faults.0.degradation must hold`,
			`25:24 faults.0.recovery.within: must not be negative`,
			`25:29 faults.0.recovery: unknown key "windw" (did you mean "window"?); valid keys: within, hold, window`,
		}},
		// a fault without a duration never ends
		{"fault without duration", editChaos("    duration: 30s\n", ""),
			[]string{`19:5 faults.0.duration: the fault has no duration, so it lasts until the load ends and recovery cannot be observed`}},
		// toxicity through its UnmarshalText
		{"toxicity text", editChaos("duration: 30s\n", "duration: 30s\n    toxicity: lots\n"),
			[]string{`24:15 faults.0.toxicity: "lots" is not a percentage (e.g. 5% or 0.05); want a percentage such as 50% or 0.5`}},
		// toxicity out of range (faults.Validate)
		{"toxicity range", editChaos("duration: 30s\n", "duration: 30s\n    toxicity: 150%\n"),
			[]string{`24:15 faults.0.toxicity: must be between 0% and 100%`}},
		// degradation is never judged without faults
		{"degradation without faults", base + "degradation:\n  errors: [\"rate < 50%\"]\n",
			[]string{`12:1 degradation: is judged only while a fault is active`}},
		// "for" only in abort
		{"for outside abort", editChaos(`["p(95) < 100ms"]`, `["p(95) < 100ms for 10s"]`),
			[]string{`17:13 thresholds.latency: in "p(95) < 100ms for 10s": "for" applies only to abort conditions`}},
		// tag values must name what the experiment has
		{"tag values", chaos + "abort:\n  \"errors{scenario:x}\": [\"rate > 90% for 10s\"]\n  \"errors{class:http_5x}\": [\"count < 1\"]\n  \"latency{step:ordr}\": [\"p(99) > 5s for 30s\"]\n", []string{
			`29:3 abort.errors{scenario:x}: unknown scenario "x" in {scenario:x}; valid: s`,
			`30:3 abort.errors{class:http_5x}: unknown error class "http_5x" (did you mean "http_5xx"?)`,
			`31:3 abort.latency{step:ordr}: unknown step "ordr" in {step:ordr} (did you mean "order"?); valid: order`,
		}},
		// verify names a step with ack
		{"verify unknown step", editChaos("acknowledged: order", "acknowledged: ordr"),
			[]string{`25:19 verify.0.acknowledged: unknown step "ordr" (did you mean "order"?); steps with ack: order`}},
		// ...that has ack
		{"verify step without ack", editChaos("        ack: id\n", ""),
			[]string{`24:19 verify.0.acknowledged: step "order" has no ack:`}},
		// ...through a postgres target
		{"verify target", editChaos("    target: pg\n    exists", "    target: api\n    exists"),
			[]string{`26:13 verify.0.target: verify runs SQL, so it needs a postgres target; "api" has protocol http`}},
		// ...with a query that uses the id
		{"verify exists", editChaos(`exists: "SELECT 1 FROM orders WHERE id = $1"`, `exists: "SELECT 1"`),
			[]string{`27:13 verify.0.exists: must use $1`}},
		// ${stack.NAME} needs a stack section
		{"stack ref without stack", edit(`"127.0.0.1:8080"`, `"${stack.api}"`),
			[]string{`4:20 targets.api.upstream: ${stack.api} needs the demo stack; add stack: {name: demo}`}},
		// ...and a known address
		{"stack ref unknown", edit(`"127.0.0.1:8080"`, `"${stack.db}"`) + "stack: {name: demo}\n",
			[]string{`4:20 targets.api.upstream: unknown stack address "db" in ${stack.db}; valid: api, postgres, redis`}},
		// a target cannot point at a target
		{"target ref in targets", edit(`"127.0.0.1:8080"`, `"${targets.api}"`),
			[]string{`4:20 targets.api.upstream: ${targets.api}: a target cannot refer to a target`}},
		// an unknown target in a URL, at its ${
		{"target ref unknown", edit("${targets.api}", "${targets.apii}"),
			[]string{`11:29 scenarios.s.steps.0.http.url: unknown target "apii" in ${targets.apii} (did you mean "api"?); valid targets: api`}},
		// every problem at once, sorted by position, decode and validation alike
		{"many", edit("name: t", `name: ""`) + "stack: {name: x, mdoe: naive}\nseed: x\n", []string{
			`2:7 name: is required`,
			`12:15 stack.name: unknown stack "x"`,
			`12:18 stack: unknown key "mdoe" (did you mean "mode"?)`,
			`13:7 seed: want a whole number, got the string "x"`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			checkProblems(t, problems(t, tc.src, Options{}), tc.want)
		})
	}
}

// TestValidateValid accepts the table's bases and edge cases that are fine.
func TestValidateValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
	}{
		{"base", base},
		{"chaos", chaos},
		// a one-shot reset has no duration and ends at once
		{"one-shot reset", editChaos("verify:", "  - {name: rst, target: pg, kind: reset, startTime: 10s}\nverify:")},
		// abort conditions may be sustained
		{"abort for", chaos + "abort:\n  errors: [\"rate > 95% for 15s\"]\n"},
		// a fault without thresholds has no observation period to check
		{"no thresholds", editChaos("thresholds:\n  latency: [\"p(95) < 100ms\"]\n", "")},
		// pg_ and redis_ classes, builtin classes
		{"classes", chaos + "degradation:\n  \"errors{class:pg_53300}\": [\"count >= 0\"]\n  \"errors{class:http_503}\": [\"rate < 90%\"]\n"},
		// every fault may expect an effect; pool exhaustion may take the
		// reserved slots
		{"expectEffect and reserved", editChaos("kind: pool-exhaustion", "kind: pool-exhaustion\n    expectEffect: true\n    reserved: 0")},
		// a fixed loopback listen address
		{"listen", edit(`{upstream: "127.0.0.1:8080"}`, `{upstream: "127.0.0.1:8080", listen: "127.0.0.1:16379"}`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mustParse(t, tc.src, Options{})
		})
	}
}

// TestValidateBuiltInGo checks an Experiment built in Go, without positions
// or defaults: zero values count as defaults and problems point at the file.
func TestValidateBuiltInGo(t *testing.T) {
	t.Parallel()
	e := mustParse(t, base, Options{})
	if err := e.Validate(); err != nil {
		t.Fatalf("Validate of a parsed experiment: %v", err)
	}
	bare := &Experiment{File: "go", Version: 1, Name: "n"}
	err := bare.Validate()
	if err == nil || err.Error() != "go: scenarios: at least one scenario is required, e.g. scenarios: "+
		"{users: {executor: constant-vus, vus: 10, duration: 30s, steps: [{http: {url: ...}}]}}" {
		t.Errorf("Validate of a bare experiment: %v", err)
	}
}
