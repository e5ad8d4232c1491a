package config

import (
	"errors"
	"fmt"
	"testing"
)

// TestCheckAdvertised: a file can have its proxies advertised to workers
// elsewhere unless a target keeps a listen address of its own or a
// scenario names ${stack.NAME}; every problem is given at its position.
func TestCheckAdvertised(t *testing.T) {
	t.Parallel()
	tests := []struct {
		what string
		src  string
		want []string // "line:col substring"
	}{
		// steps through a target; the stack named outside the scenarios
		{"fine", base + "stack: {name: demo}\ndescription: \"at ${stack.api}\"\n", nil},
		// a listen address of its own, even the default's
		{"listen", edit(`{upstream: "127.0.0.1:8080"}`, `{upstream: "127.0.0.1:8080", listen: "127.0.0.1:0"}`),
			[]string{"4:45 targets.api.listen: target api listens on 127.0.0.1:0, which the workers on other machines cannot reach"}},
		// a step that names the stack's service
		{"stack step", edit(`"http://${targets.api}/"`, `"http://${stack.api}/", headers: {X-Db: "${stack.postgres}"}`) + "stack: {name: demo}\n",
			[]string{"11:29 scenarios.s.steps.0.http.url: ${stack.api} is an address on the coordinator's loopback",
				"11:62 scenarios.s.steps.0.http.headers.X-Db: ${stack.postgres} is an address on the coordinator's loopback"}},
	}
	for _, tc := range tests {
		err := mustParse(t, tc.src, Options{}).CheckAdvertised()
		var es Errors
		if err != nil && !errors.As(err, &es) {
			t.Fatalf("%s: %T (%v), want Errors", tc.what, err, err)
		}
		var got []string
		for _, e := range es {
			got = append(got, fmt.Sprintf("%d:%d: %s", e.Pos.Line, e.Pos.Col, e.Msg))
		}
		checkProblems(t, got, tc.want)
	}
}
