package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
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

// TestRuntimeVarsPassThrough: run-time variables are never expanded, by
// Parse or by Resolve, even when the environment has a variable of the
// same name; an escaped one stays escaped so the step's template reads it
// as text; addresses and environment variables around them are expanded.
func TestRuntimeVarsPassThrough(t *testing.T) {
	t.Parallel()
	url := `http://${targets.api}/o/${vu.id}/${iteration}?r=${random.uuid}&lit=$${vu.id}&env=${E}&h=$${HOME}`
	src := edit(`"http://${targets.api}/"`, `"`+url+`"`)
	e := mustParse(t, src, Options{LookupEnv: env(map[string]string{"E": "x", "iteration": "7"})})
	want := `http://${targets.api}/o/${vu.id}/${iteration}?r=${random.uuid}&lit=$${vu.id}&env=x&h=$${HOME}`
	if got := e.Scenarios[0].Steps[0].HTTP.URL; got != want {
		t.Fatalf("after Parse %q, want %q", got, want)
	}
	if err := e.Resolve(env(map[string]string{"targets.api": "127.0.0.1:1"})); err != nil {
		t.Fatal(err)
	}
	want = `http://127.0.0.1:1/o/${vu.id}/${iteration}?r=${random.uuid}&lit=$${vu.id}&env=x&h=${HOME}`
	if got := e.Scenarios[0].Steps[0].HTTP.URL; got != want {
		t.Fatalf("after Resolve %q, want %q", got, want)
	}
	for in, out := range map[string]string{"${vu.token}": "${vu.token}", "$${data.x}": "$${data.x}", "a${iteration}b": "a${iteration}b"} {
		if got, err := Expand(in, nil); err != nil || got != out {
			t.Errorf("Expand(%q) = %q, %v; want %q", in, got, err, out)
		}
	}
}

// TestFilePathsRelativeToExperiment: data and bodyFile paths are read
// relative to the experiment file's directory, absolute ones as written.
func TestFilePathsRelativeToExperiment(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, content := range map[string]string{"users.csv": "user\nann\n", "body.bin": "x"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	src := edit(`{url: "http://${targets.api}/"}`, `{method: POST, url: "http://${targets.api}/${data.user}", bodyFile: body.bin}`) +
		"    data: users.csv\n"
	e, err := Parse(filepath.Join(dir, "exp.yaml"), []byte(src), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := e.Scenarios[0]
	if s.Data != filepath.Join(dir, "users.csv") || s.Steps[0].HTTP.BodyFile != filepath.Join(dir, "body.bin") {
		t.Fatalf("data %q, bodyFile %q: want both in %s", s.Data, s.Steps[0].HTTP.BodyFile, dir)
	}
	// from another directory the same relative names are not found
	_, err = Parse(filepath.Join(t.TempDir(), "exp.yaml"), []byte(src), Options{})
	if err == nil || !strings.Contains(err.Error(), "users.csv") || !strings.Contains(err.Error(), "body.bin") {
		t.Fatalf("error %v, want both files missing", err)
	}
}
