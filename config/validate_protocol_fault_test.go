package config

import (
	"strings"
	"testing"

	"github.com/chaosload/chaosload/faults"
)

// withFaults is protocols with a faults section appended (line 21 on).
func withFaults(faultsYAML string) string {
	return protocols + "faults:\n" + faultsYAML
}

// TestProtocolFaults: protocol-aware faults decode onto targets of their
// protocol with their match and answer; on another protocol, with a foreign
// match key or a bad SQLSTATE they are refused at file:line:col.
func TestProtocolFaults(t *testing.T) {
	t.Parallel()
	e := mustParse(t, withFaults(`  - {name: ser, target: pg, kind: pg-error, startTime: 1s, duration: 2s, probability: 30%,
     match: {sql: "(?i)^update"}, code: "40001"}
  - {name: busy, target: cache, kind: redis-error, startTime: 1s, duration: 2s, match: {command: GET, key: "user:*"}, message: "BUSY script"}
  - {name: shed, target: api, kind: http-error, startTime: 1s, duration: 2s, status: 429, headers: {Retry-After: "1"}, match: {path: "/orders/*"}}
`), Options{})
	pgSpec, ok := e.Faults[0].Spec().(faults.PGErrorSpec)
	if !ok || pgSpec.SQLState != "40001" || pgSpec.Probability != 0.3 || pgSpec.Match.SQL != "(?i)^update" {
		t.Fatalf("pg-error spec %+v", e.Faults[0].Spec())
	}
	if rs := e.Faults[1].Spec().(faults.RedisErrorSpec); rs.Message != "BUSY script" || rs.Match.Key != "user:*" {
		t.Fatalf("redis-error spec %+v", rs)
	}
	if hs := e.Faults[2].Spec().(faults.HTTPErrorSpec); hs.Status != 429 || hs.Headers["Retry-After"] != "1" {
		t.Fatalf("http-error spec %+v", hs)
	}
	_, err := Parse("x.yaml", []byte(withFaults(`  - {name: a, target: api, kind: pg-error, startTime: 1s, duration: 2s}
  - {name: b, target: cache, kind: redis-error, startTime: 1s, duration: 2s, match: {sql: "x"}}
  - {name: c, target: pg, kind: pg-error, startTime: 1s, duration: 2s, code: "4001"}
`)), Options{})
	if err == nil {
		t.Fatal("no error for misplaced protocol faults")
	}
	for _, want := range []string{`x.yaml:21:23:`, `pg-error needs a target with protocol: postgres`,
		`x.yaml:22:91:`, `match.sql`, `does not apply to redis-error`, `x.yaml:23:78:`, `is not a SQLSTATE`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
