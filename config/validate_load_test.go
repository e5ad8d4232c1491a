package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// flow is a valid user flow: login extracts a token, orders uses it with
// the other run-time variables; rows edit it. The data file's path is
// appended by flowWith (line 16).
const flow = `version: 1
name: t
targets:
  api: {upstream: "127.0.0.1:8080"}
scenarios:
  s:
    executor: per-vu-iterations
    vus: 2
    iterations: 3
    steps:
      - name: login
        http: {method: POST, url: "http://${targets.api}/login", json: {user: "${data.user}"}}
        extract: {token: {json: data.token}}
      - name: orders
        http: {url: "http://${targets.api}/o/${vu.token}?i=${iteration}&r=${random.int(1,9)}&v=${vu.id}"}
`

// flowWith returns flow with old replaced by new and a data file (users.csv
// with columns user and pass) appended as the scenario's data.
func flowWith(t *testing.T, old, new string) string {
	t.Helper()
	csv := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(csv, []byte("user,pass\nann,a1\nbob,b2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(flow, old) {
		t.Fatalf("%q is not in flow", old)
	}
	return strings.Replace(flow, old, new, 1) + "    data: " + csv + "\n"
}

// TestValidateLoad covers the rules of the load features (validate_load.go), each
// problem at the line:col of the offending field or variable.
func TestValidateLoad(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []string // "line:col substring", in order; none: valid
	}{
		// the flow as written is valid
		{"valid flow", flowWith(t, "", ""), nil},
		// ramping-arrival-rate with its fields, Poisson arrivals
		{"ramping-arrival-rate", edit("executor: constant-vus\n    vus: 1\n    duration: 10s",
			"executor: ramping-arrival-rate\n    startRate: 5\n    stages: [{duration: 10s, target: 50}]\n    preAllocatedVUs: 10\n    maxVUs: 20\n    arrival: poisson"), nil},
		// shared-iterations with its defaults
		{"shared-iterations", edit("executor: constant-vus\n    vus: 1\n    duration: 10s", "executor: shared-iterations"), nil},
		// arrival on a closed model is another executor's field
		{"arrival on constant-vus", edit("vus: 1", "vus: 1\n    arrival: poisson"),
			[]string{`9:14 scenarios.s.arrival: arrival is not a field of constant-vus (its fields: vus, duration)`}},
		// iterations on constant-vus likewise
		{"iterations on constant-vus", edit("vus: 1", "vus: 1\n    iterations: 5"),
			[]string{`9:17 scenarios.s.iterations: iterations is not a field of constant-vus`}},
		// an unknown arrival process
		{"bad arrival", edit("executor: constant-vus\n    vus: 1\n    duration: 10s",
			"executor: constant-arrival-rate\n    rate: 5\n    duration: 10s\n    preAllocatedVUs: 1\n    arrival: poison"),
			[]string{`11:14 scenarios.s.arrival: unknown arrival "poison" (did you mean "poisson"?); valid: uniform, poisson`}},
		// ramping-arrival-rate needs stages and a pool, and no negative start
		{"ramping-arrival-rate fields", edit("executor: constant-vus\n    vus: 1\n    duration: 10s",
			"executor: ramping-arrival-rate\n    startRate: -1"), []string{
			`6:3 scenarios.s.stages: at least one stage is required, e.g. stages: [{duration: 30s, target: 200}]`,
			`6:3 scenarios.s.preAllocatedVUs: is required and must be positive`,
			`8:16 scenarios.s.startRate: must not be negative`,
		}},
		// shared-iterations with fewer iterations than VUs
		{"shared too few", edit("executor: constant-vus\n    vus: 1\n    duration: 10s",
			"executor: shared-iterations\n    vus: 5\n    iterations: 2"),
			[]string{`9:17 scenarios.s.iterations: 2 iterations shared by 5 VUs would leave VUs idle`}},
		// a ${vu.NAME} no earlier step extracts, at the variable
		{"unknown vu var", flowWith(t, "${vu.token}", "${vu.tokn}"),
			[]string{`15:46 scenarios.s.steps.1.http.url: ${vu.tokn}: no earlier step of scenario "s" extracts "tokn" (did you mean "token"?); extracted before this step: token`}},
		// extracted only by a later step: the first iteration has no value
		{"extracted later", flowWith(t, `json: {user: "${data.user}"}`, `json: {user: "${data.user}", t: "${vu.token}"}`),
			[]string{`12:99 scenarios.s.steps.0.http.json.t: ${vu.token}: no earlier step of scenario "s" extracts "token"; extracted before this step: none`}},
		// a column the data file does not have
		{"unknown column", flowWith(t, "${data.user}", "${data.usr}"),
			[]string{`12:80 scenarios.s.steps.0.http.json.user: ${data.usr}: `, ``}[:1]},
		// ${data.*} without data
		{"no data", flow,
			[]string{`12:80 scenarios.s.steps.0.http.json.user: ${data.user}: scenario "s" has no data; add data: FILE.csv with a column "user"`}},
		// a malformed run-time variable
		{"bad random", flowWith(t, "${random.int(1,9)}", "${random.int(9,1)}"),
			[]string{`15:75 scenarios.s.steps.1.http.url: ${random.int(9,1)}: want ${random.int(A,B)} with whole numbers A <= B`}},
		// an ack is not a template
		{"in an ack", flowWith(t, "name: orders", "name: orders\n        ack: ${vu.id}"),
			[]string{`15:14 scenarios.s.steps.1.ack: ${vu.id}: ack is not filled in at run time`}},
		// run-time variables belong to steps
		{"outside steps", flowWith(t, "name: t", "name: t\ndescription: run ${iteration}"),
			[]string{`3:18 description: ${iteration} is a run-time variable of steps`}},
		// a data file that is not there
		{"missing data", strings.Replace(flow, "executor:", "data: /nonexistent/users.csv\n    executor:", 1),
			[]string{`7:11 scenarios.s.data: read data: open /nonexistent/users.csv: no such file or directory`}},
		// an unknown data order, and one without data
		{"data order", strings.Replace(flow, "vus: 2", "vus: 2\n    dataOrder: shuffled", 1), []string{
			`9:16 scenarios.s.dataOrder: unknown order "shuffled"; valid: round-robin, random`,
			`9:16 scenarios.s.dataOrder: applies to data; add data: FILE.csv`,
			`13:80 scenarios.s.steps.0.http.json.user: ${data.user}: scenario "s" has no data`,
		}},
		// expect: statuses only
		{"expect", edit(`{url: "http://${targets.api}/"}`, `{url: "http://${targets.api}/", expect: {status: [200, 999]}}`),
			[]string{`11:70 scenarios.s.steps.0.http.expect.status.1: 999 is not an HTTP status (100–599)`}},
		// one body
		{"two bodies", edit(`{url: "http://${targets.api}/"}`, `{url: "http://${targets.api}/", json: {a: 1}, bodySize: 10MB}`),
			[]string{`11:71 scenarios.s.steps.0.http.bodySize: json and bodySize are both set; a request has one body`}},
		// a body file that cannot be read
		{"body file", edit(`{url: "http://${targets.api}/"}`, `{url: "http://${targets.api}/", bodyFile: /nonexistent/b.bin}`),
			[]string{`11:57 scenarios.s.steps.0.http.bodyFile: cannot be read`}},
		// a size that is not one
		{"body size", edit(`{url: "http://${targets.api}/"}`, `{url: "http://${targets.api}/", bodySize: lots}`),
			[]string{`11:57 scenarios.s.steps.0.http.bodySize: "lots" is not a size in bytes`}},
		// an extract needs one source, a name that is not id, a regex that compiles
		{"extracts", flowWith(t, "extract: {token: {json: data.token}}", "extract: {token: {json: a, header: b}, id: {json: x}, r: {regex: \"(\"}}"), []string{
			`13:19 scenarios.s.steps.0.extract.token: give exactly one of json (a field path), header (a name) or regex`,
			`13:48 scenarios.s.steps.0.extract.id: "id" cannot name a variable`,
			`13:74 scenarios.s.steps.0.extract.r.regex: error parsing regexp`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			checkProblems(t, problems(t, tc.src, Options{}), tc.want)
		})
	}
}
