package config

import (
	"errors"
	"testing"
	"time"
)

// TestExpand covers the variable syntax of Expand.
func TestExpand(t *testing.T) {
	t.Parallel()
	vars := env(map[string]string{"A": "x", "E": "", "targets.api": "127.0.0.1:4000"})
	tests := []struct {
		in      string
		want    string
		wantOff int // offset of the SyntaxError; -1 for none
	}{
		{"${A}", "x", -1},            // a variable
		{"a${A}b${A}c", "axbxc", -1}, // several, with text around
		{"${B:-dflt}", "dflt", -1},   // unset: the default
		{"${E:-dflt}", "dflt", -1},   // empty: the default too
		{"${E}", "", -1},             // empty without default: empty
		{"${A:-dflt}", "x", -1},      // set: the value
		{"${B:-}", "", -1},           // an empty default
		{"$${A}", "${A}", -1},        // an escaped ${
		{"$$${A}", "$${A}", -1},      // a $ then an escape
		{"http://${targets.api}/", "http://127.0.0.1:4000/", -1}, // an address
		{"cost: $5", "cost: $5", -1},                             // a lone $
		{"x${B}", "", 1},                                         // unset, no default
		{"ab${A", "", 2},                                         // unterminated
		{"${}", "", 0},                                           // empty name
	}
	for _, tc := range tests {
		got, err := Expand(tc.in, vars)
		var se *SyntaxError
		switch {
		case tc.wantOff >= 0 && (!errors.As(err, &se) || se.Offset != tc.wantOff):
			t.Errorf("Expand(%q) error = %v, want a SyntaxError at %d", tc.in, err, tc.wantOff)
		case tc.wantOff < 0 && (err != nil || got != tc.want):
			t.Errorf("Expand(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if got, err := Expand("${A:-d}", nil); err != nil || got != "d" {
		t.Errorf("Expand with a nil lookup = %q, %v; want the default", got, err)
	}
}

// TestEnvExpansion expands environment variables while parsing.
func TestEnvExpansion(t *testing.T) {
	t.Parallel()
	src := edit("duration: 10s", "duration: ${D}") + "description: \"$${HOME} ${LIT}\"\nseed: ${SEED:-7}\n"
	e := mustParse(t, edit("vus: 1", "vus: ${VUS}")[:0]+src, Options{LookupEnv: env(map[string]string{
		"D": "1m30s", "LIT": "${not.a.var}",
	})})
	if d := e.Scenarios[0].Duration; d != 90*time.Second {
		t.Errorf("duration = %v, want 1m30s from $D", d)
	}
	if e.Seed != 7 {
		t.Errorf("seed = %d, want 7: a default, then typed as a number", e.Seed)
	}
	// the escape and a variable's value stay literal until Resolve
	if e.Description != "$${HOME} $${not.a.var}" {
		t.Errorf("description = %q before Resolve", e.Description)
	}
	if err := e.Resolve(env(map[string]string{"targets.api": "127.0.0.1:1"})); err != nil {
		t.Fatal(err)
	}
	if e.Description != "${HOME} ${not.a.var}" {
		t.Errorf("description = %q after Resolve, want the literal text", e.Description)
	}
	// a number from the environment is a number
	e = mustParse(t, edit("vus: 1", "vus: ${VUS}"), Options{LookupEnv: env(map[string]string{"VUS": "12"})})
	if e.Scenarios[0].VUs != 12 {
		t.Errorf("vus = %d, want 12", e.Scenarios[0].VUs)
	}
	// a quoted value stays a string
	checkProblems(t, problems(t, edit("vus: 1", `vus: "${VUS}"`), Options{LookupEnv: env(map[string]string{"VUS": "12"})}),
		[]string{`8:10 scenarios.s.vus: want a whole number, got the string "12"`})
}
