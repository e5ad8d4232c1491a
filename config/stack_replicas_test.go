package config

import (
	"strings"
	"testing"
)

// demoReplicas is a file on the demo stack with three replicas behind the
// balancer, the load through it.
const demoReplicas = `version: 1
name: t
stack:
  name: demo
  replicas: 3
  balancer: {check: tcp}
scenarios:
  s:
    executor: constant-vus
    vus: 1
    duration: 10s
    steps:
      - http: {url: "http://${stack.lb}/api/products?r=${stack.api[2]}"}
`

// TestStackReplicas: replicas and the balancer's check are read, and
// ${stack.lb} and ${stack.api[i]} are addresses of such a stack.
func TestStackReplicas(t *testing.T) {
	t.Parallel()
	e := mustParse(t, demoReplicas, Options{})
	if e.Stack.Replicas != 3 || e.Stack.Balancer.Check != "tcp" {
		t.Fatalf("stack %+v, want 3 replicas, tcp checks", e.Stack)
	}
}

// TestStackReplicaErrors: each mistake is named where it was written.
func TestStackReplicaErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		old, new, want string
	}{
		{"replicas: 3", "replicas: 17", "5:13: stack.replicas: 17 is out of range; valid: 1 to 16"},
		{"replicas: 3", "replicas: -1", "5:13: stack.replicas: -1 is out of range; valid: 1 to 16"},
		{"check: tcp", "check: tls", `6:21: stack.balancer.check: unknown check "tls"; valid: http, tcp, none`},
		{"${stack.api[2]}", "${stack.api[3]}", `unknown stack address "api[3]"`},
		{"  replicas: 3\n", "", "5:3: stack.balancer: balances the demo's replicas; add replicas: N (1 to 16)"},
		{"  replicas: 3\n  balancer: {check: tcp}\n", "", `unknown stack address "lb"`},
	} {
		src := strings.Replace(demoReplicas, c.old, c.new, 1)
		got := strings.Join(problems(t, src, Options{}), "\n")
		if !strings.Contains(got, c.want) {
			t.Errorf("%q → %q: problems\n%s\nwant one containing %q", c.old, c.new, got, c.want)
		}
	}
}
