package config

import (
	"testing"
)

// TestDecodeErrors covers what the strict decoder and the ${...} expansion
// refuse, each at its exact line:col.
func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		env  map[string]string
		want []string // "line:col substring", in order
	}{
		// a typo of a top-level key: suggestion and the valid keys
		{"unknown top key", base + "nmae: x\n",
			nil, []string{`12:1 unknown key "nmae" (did you mean "name"?); valid keys: version, name, description,`}},
		// a typo inside a flow mapping
		{"unknown nested key", base + "stack: {name: demo, mod: naive}\n",
			nil, []string{`12:21 stack: unknown key "mod" (did you mean "mode"?); valid keys: name, mode`}},
		// a list where a duration goes
		{"duration list", edit("duration: 10s", "duration: [10s]"),
			nil, []string{`9:15 scenarios.s.duration: want a duration such as 30s or 1m30s, got a list`}},
		// a bare number is not a duration
		{"duration bare number", edit("duration: 10s", "duration: 30"),
			nil, []string{`9:15 scenarios.s.duration: 30 has no unit; write a duration such as 30s, 30ms or 1m30s`}},
		// an unparsable duration
		{"duration bad string", edit("duration: 10s", "duration: 30 secs"),
			nil, []string{`9:15 scenarios.s.duration: want a duration such as 30s, 250ms or 1m30s, got the string "30 secs"`}},
		// a string where a whole number goes (and no second "is required")
		{"int from string", edit("vus: 1", "vus: ten"),
			nil, []string{`8:10 scenarios.s.vus: want a whole number, got the string "ten"`}},
		// a fraction where a whole number goes
		{"int from float", edit("vus: 1", "vus: 1.5"),
			nil, []string{`8:10 scenarios.s.vus: want a whole number, got the number 1.5`}},
		// a scalar where a mapping goes
		{"struct from scalar", base + "stack: demo\n",
			nil, []string{`12:8 stack: want a mapping with keys name, mode, ackBeforeCommit, restart, postgresDisk, replicas, balancer, services, got the string "demo"`}},
		// a list where a mapping of named entries goes; the reference to the
		// target is then unknown too
		{"named list from list", edit("targets:\n  api: {upstream: \"127.0.0.1:8080\"}", "targets: [api]\n#"),
			nil, []string{
				`3:10 targets: want a mapping from names to entries (NAME: {...}), got a list`,
				`11:29 scenarios.s.steps.0.http.url: unknown target "api" in ${targets.api}; valid targets: none`,
			}},
		// a named entry with no body
		{"named entry null", edit(`  api: {upstream: "127.0.0.1:8080"}`, "  api:"),
			nil, []string{`4:3 targets.api: want a mapping with keys upstream, upstreams, backShare, checkPath, listen, protocol, dsn, got nothing`}},
		// a key given twice
		{"duplicate key", base + "name: u\n",
			nil, []string{`12:1 name: given twice (first at line 2)`}},
		// anchors and aliases are refused
		{"anchor and alias", edit("name: t", "name: &n t") + "description: *n\n",
			nil, []string{`2:7 name: anchors (&n) are not supported`, `12:14 description: aliases (*n) are not supported`}},
		// a merge key
		{"merge key", base + "<<: {description: x}\n",
			nil, []string{`12:1 merge keys (<<) are not supported`}},
		// a key that is not a scalar
		{"complex key", base + "? [a]\n: b\n",
			nil, []string{`12:3 a key must be a plain name, got a list`}},
		// TextUnmarshaler (load.Think) errors carry its message
		{"think", edit("/\"}\n", "/\"}\n        think: soon\n"),
			nil, []string{`12:16 scenarios.s.steps.0.think: "soon" is not a think time (e.g. 100ms or uniform(100ms, 300ms))`}},
		// a threshold expression error points inside a plain scalar
		{"threshold plain", base + "thresholds:\n  latency: [p(95) < 100xs]\n",
			nil, []string{`13:24 thresholds.latency.0: in "p(95) < 100xs": unknown unit "xs"`}},
		// ...and inside a quoted one, past the quote
		{"threshold quoted", base + "thresholds:\n  latency: [\"p(95) < 100xs\"]\n",
			nil, []string{`13:25 thresholds.latency.0: in "p(95) < 100xs": unknown unit "xs"`}},
		// a single expression instead of a list, with an error
		{"threshold single", base + "thresholds:\n  errors: rate < 1ms\n",
			nil, []string{`13:19 thresholds.errors.0: in "rate < 1ms": a rate of errors is a share`}},
		// an unknown metric in a key
		{"threshold metric", base + "thresholds:\n  latncy: [\"p(95) < 1s\"]\n",
			nil, []string{`13:3 thresholds.latncy: in "latncy": unknown metric "latncy"`}},
		// an unknown tag in a quoted key, pointed at
		{"threshold tag", base + "thresholds:\n  \"errors{clas:x}\": [\"rate < 1%\"]\n",
			nil, []string{`13:11 thresholds.errors{clas:x}: in "errors{clas:x}": unknown tag "clas"`}},
		// thresholds must be a mapping
		{"thresholds list", base + "thresholds: [a]\n",
			nil, []string{`12:13 thresholds: want a mapping from metrics to expressions`}},
		// an empty list of expressions
		{"threshold empty", base + "thresholds:\n  latency: []\n",
			nil, []string{`13:12 thresholds.latency: want a list of expressions such as ["p(95) < 100ms"], got an empty list`}},
		// an unset environment variable, at its ${
		{"env unset", edit("duration: 10s", "duration: 1${DUR}"),
			nil, []string{`9:16 scenarios.s.duration: environment variable DUR is not set; set it, or give a default: ${DUR:-VALUE}`}},
		// an unterminated ${ inside a quoted scalar
		{"env unterminated", edit("name: t", `name: "a ${X"`),
			nil, []string{`2:10 name: unterminated "${"`}},
		// a ${...} that is neither an environment variable nor an address
		{"env bad form", edit("name: t", "name: ${my.var}"),
			nil, []string{`2:7 name: ${my.var} is not a variable; write ${NAME} or ${NAME:-default}`}},
		// an address takes no default
		{"address default", edit("${targets.api}", "${targets.api:-x}"),
			nil, []string{`11:29 scenarios.s.steps.0.http.url: ${targets.api:-x}: a default does not apply to an address`}},
		// a YAML syntax error has a line only
		{"yaml syntax", "version: 1\nname: [\n",
			nil, []string{`2:0 invalid YAML: did not find expected node content`}},
		// an empty file
		{"empty", "",
			nil, []string{`0:0 the file is empty; an experiment starts with version: 1`}},
		// the top is not a mapping
		{"top list", "- a\n",
			nil, []string{`1:1 want a mapping of keys (version, name, targets, scenarios, ...) at the top, got a list`}},
		// two documents
		{"two documents", base + "---\nname: x\n",
			nil, []string{`12:1 a second YAML document starts here`}},
		// a non-finite number in a JSON body
		{"json inf", edit(`{url: "http://${targets.api}/"}`, `{url: "http://${targets.api}/", method: POST, json: {a: .inf}}`),
			nil, []string{`11:71 scenarios.s.steps.0.http.json.a: .inf has no JSON form`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			checkProblems(t, problems(t, tc.src, Options{LookupEnv: env(tc.env)}), tc.want)
		})
	}
}
