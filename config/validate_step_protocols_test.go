package config

import (
	"strings"
	"testing"
)

// protocols is a valid experiment with a ws, a pg and a redis step, each
// through a target (steps at lines 12, 16 and 18).
const protocols = `version: 1
name: p
targets:
  api: {upstream: "127.0.0.1:8080", protocol: http}
  pg: {upstream: "127.0.0.1:5432", protocol: postgres}
  cache: {upstream: "127.0.0.1:6379", protocol: redis}
scenarios:
  s:
    executor: constant-vus
    vus: 1
    duration: 10s
    steps:
      - name: chat
        ws: {url: "ws://${targets.api}/ws/feed", send: {json: {type: chat}, rate: 10},
             expect: {json: {field: seq}, timeout: 2s}, hold: 30s}
      - name: lookup
        pg: {dsn: "postgres://shop@${targets.pg}/shop", query: "SELECT * FROM products WHERE id = $1", args: [1], poolSize: 4}
      - name: queue
        redis: {addr: "${targets.cache}", command: [RPUSH, jobs, "job"], repeat: 1000}
`

func editProtocols(old, new string) string {
	if !strings.Contains(protocols, old) {
		panic("editProtocols: " + old + " is not in protocols")
	}
	return strings.Replace(protocols, old, new, 1)
}

// TestProtocolStepsParse: the steps decode into their specs, each bound to
// the target its address names, and Resolve fills in the addresses.
func TestProtocolStepsParse(t *testing.T) {
	t.Parallel()
	e := mustParse(t, protocols, Options{})
	steps := e.Scenarios[0].Steps
	ws, pg, rd := steps[0], steps[1], steps[2]
	if ws.WS == nil || ws.WS.Send.Rate != 10 || ws.WS.Expect.JSON.Field != "seq" || ws.WS.Hold.Seconds() != 30 {
		t.Fatalf("ws step %+v", ws.WS)
	}
	if pg.PG == nil || pg.PG.PoolSize != 4 || len(pg.PG.Args) != 1 || rd.Redis == nil || rd.Redis.Repeat != 1000 || len(rd.Redis.Command) != 3 {
		t.Fatalf("pg %+v redis %+v", pg.PG, rd.Redis)
	}
	for i, want := range []string{"api", "pg", "cache"} {
		if steps[i].Target != want {
			t.Errorf("step %s: target %q, want %q", steps[i].Name, steps[i].Target, want)
		}
	}
	addrs := map[string]string{"targets.api": "127.0.0.1:1", "targets.pg": "127.0.0.1:2", "targets.cache": "127.0.0.1:3"}
	if err := e.Resolve(func(n string) (string, bool) { v, ok := addrs[n]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	if ws.WS.URL != "ws://127.0.0.1:1/ws/feed" || pg.PG.DSN != "postgres://shop@127.0.0.1:2/shop" || rd.Redis.Addr != "127.0.0.1:3" {
		t.Errorf("resolved: %q %q %q", ws.WS.URL, pg.PG.DSN, rd.Redis.Addr)
	}
}

// TestProtocolStepErrors: every rule of the ws, pg and redis steps, at the
// field's line:col (or its step's).
func TestProtocolStepErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []string
	}{
		// a ws URL is ws:// or wss://
		{"ws url", editProtocols(`"ws://${targets.api}/ws/feed"`, `"http://${targets.api}/"`),
			[]string{`14:19 scenarios.s.steps.0.ws.url: want an absolute ws:// or wss:// URL`}},
		// messages at a rate need a hold to be sent over
		{"rate without hold", editProtocols(`hold: 30s}`, `hold: 0s}`),
			[]string{`14:83 scenarios.s.steps.0.ws.send.rate: messages are sent at a rate over the hold`}},
		// one body per message
		{"text and json", editProtocols(`send: {json: {type: chat}`, `send: {text: hi, json: {type: chat}`),
			[]string{`14:50 scenarios.s.steps.0.ws.send: text and json are both set`}},
		// correlating replies needs a JSON message
		{"correlate text", editProtocols(`send: {json: {type: chat}`, `send: {text: hi`),
			[]string{`15:23 scenarios.s.steps.0.ws.expect.json: without equals`}},
		// a reply needs a message
		{"expect without send", editProtocols(`send: {json: {type: chat}, rate: 10},`, ``),
			[]string{`15:14 scenarios.s.steps.0.ws.expect: a reply needs a message`}},
		// a ws step cannot go through a postgres target
		{"ws through pg", editProtocols(`ws://${targets.api}`, `ws://${targets.pg}`),
			[]string{`14:19 scenarios.s.steps.0.ws.url: goes through target "pg", whose protocol is postgres`}},
		// query or exec, not both
		{"query and exec", editProtocols(`args: [1]`, `exec: "DELETE FROM x", args: [1]`),
			[]string{`17:9 scenarios.s.steps.1.pg: want exactly one of query (returns rows) and exec`}},
		// a pg step through a redis target
		{"pg through redis", editProtocols(`${targets.pg}/shop`, `${targets.cache}/shop`),
			[]string{`17:19 scenarios.s.steps.1.pg.dsn: goes through target "cache", whose protocol is redis`}},
		// a dsn is required
		{"no dsn", editProtocols(`dsn: "postgres://shop@${targets.pg}/shop", `, ``),
			[]string{`17:9 scenarios.s.steps.1.pg.dsn: is required`}},
		// negative pool size
		{"pool size", editProtocols(`poolSize: 4`, `poolSize: -1`),
			[]string{`17:125 scenarios.s.steps.1.pg.poolSize: must not be negative`}},
		// a redis address is host:port
		{"redis addr", editProtocols(`"${targets.cache}"`, `"localhost"`),
			[]string{`19:23 scenarios.s.steps.2.redis.addr: want host:port`}},
		// command or pipeline
		{"no command", editProtocols(`command: [RPUSH, jobs, "job"], `, ``),
			[]string{`19:9 scenarios.s.steps.2.redis: want a command`}},
		// repeat must not be negative
		{"repeat", editProtocols(`repeat: 1000`, `repeat: -1`),
			[]string{`19:82 scenarios.s.steps.2.redis.repeat: must not be negative`}},
		// two operations in one step
		{"two ops", editProtocols("      - name: queue\n", "      - name: queue\n        http: {url: \"http://${targets.api}/\"}\n"),
			[]string{`18:9 scenarios.s.steps.2: has http and redis; a step does exactly one operation`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			checkProblems(t, problems(t, tc.src, Options{}), tc.want)
		})
	}
}

// TestProtocolMetricThresholds: thresholds on the protocol metrics
// validate, the direction tag included.
func TestProtocolMetricThresholds(t *testing.T) {
	t.Parallel()
	src := protocols + `thresholds:
  conn_rate: ["rate >= 50/s"]
  "conn_rate{protocol:ws}": ["count > 0"]
  ws_connect: ["p(95) < 100ms"]
  ws_rtt: ["p(95) < 100ms"]
  "ws_msgs{direction:sent}": ["rate >= 1000/s"]
  "ws_msgs{direction:received,step:chat}": ["rate >= 1000/s"]
`
	mustParse(t, src, Options{})
	checkProblems(t, problems(t, protocols+"thresholds:\n  \"ws_msgs{direction:up}\": [\"rate > 1/s\"]\n", Options{}),
		[]string{`21:12 thresholds.ws_msgs{direction:up}: in "ws_msgs{direction:up}": unknown direction "up"`})
}
