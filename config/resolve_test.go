package config

import (
	"reflect"
	"testing"
)

// resolving is base with addresses in a header, a nested JSON body and a
// query string.
var resolving = edit(`{url: "http://${targets.api}/"}`,
	`{url: "http://${targets.api}/x?up=$${kept}", method: POST, headers: {X-Up: "${targets.api}"}, json: {a: ["${targets.api}", {b: "at ${targets.api}"}], n: 1}}`) +
	"stack: {name: demo}\ndescription: \"api at ${stack.api}\"\n"

// TestResolve expands addresses in every string field, maps and JSON
// bodies included, and leaves everything else alone.
func TestResolve(t *testing.T) {
	t.Parallel()
	e := mustParse(t, resolving, Options{})
	addrs := env(map[string]string{"targets.api": "127.0.0.1:4000", "stack.api": "127.0.0.1:5000"})
	if err := e.Resolve(addrs); err != nil {
		t.Fatal(err)
	}
	h := e.Scenarios[0].Steps[0].HTTP
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"url", h.URL, "http://127.0.0.1:4000/x?up=${kept}"}, // "$${" became "${"
		{"header", h.Headers["X-Up"], "127.0.0.1:4000"},
		{"json", h.JSON, map[string]any{"a": []any{"127.0.0.1:4000", map[string]any{"b": "at 127.0.0.1:4000"}}, "n": 1}},
		{"description", e.Description, "api at 127.0.0.1:5000"},
		{"target upstream", e.Targets[0].Upstream, "127.0.0.1:8080"},
		{"step name", e.Scenarios[0].Steps[0].Name, "POST /x?up={kept}"}, // a default name has no ${
		{"step target", e.Scenarios[0].Steps[0].Target, "api"},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.what, c.got, c.want)
		}
	}
}

// TestResolveUnknown reports an address lookup does not know at its ${,
// and resolves the rest.
func TestResolveUnknown(t *testing.T) {
	t.Parallel()
	e := mustParse(t, resolving, Options{})
	err := e.Resolve(env(map[string]string{"stack.api": "127.0.0.1:5000"}))
	want := `x.yaml:11:29: scenarios.s.steps.0.http.url: ${targets.api} is not set` + "\n" +
		`x.yaml:11:91: scenarios.s.steps.0.http.headers.X-Up: ${targets.api} is not set` + "\n" +
		`x.yaml:11:121: scenarios.s.steps.0.http.json.a.0: ${targets.api} is not set` + "\n" +
		`x.yaml:11:146: scenarios.s.steps.0.http.json.a.1.b: ${targets.api} is not set`
	if err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
	if e.Description != "api at 127.0.0.1:5000" {
		t.Errorf("description = %q: strings without a problem must be resolved", e.Description)
	}
}
