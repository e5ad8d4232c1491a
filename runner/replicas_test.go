package runner_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chaosload/chaosload/demo"
	"github.com/chaosload/chaosload/runner"
	"github.com/rs/zerolog"
)

const replicasExperiment = `
version: 1
name: replicas
stack: {name: demo, replicas: 3, balancer: {check: none}}   # no check to take a replica out when the machine stalls
scenarios:
  users:
    executor: constant-arrival-rate
    rate: 20
    duration: 2s
    preAllocatedVUs: 4
    maxVUs: 40
    steps:
      - http: {url: "http://${stack.lb}/healthz"}
monitor: {every: 100ms, stack: true}
`

// TestDemoReplicasBehindHAProxy: stack: {replicas: 3} runs three demo
// service processes behind haproxy at ${stack.lb}; the outcome names every
// replica's PID and haproxy's, haproxy counted every request the load sent
// (its arrivals but the dropped ones) on one of its three servers, and nothing the stack started is left
// running after the run.
func TestDemoReplicasBehindHAProxy(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	out, err := runner.Run(ctx, experiment(t, "", replicasExperiment), runner.Options{
		Logger: zerolog.Nop(), Stack: demoStack(t),
	})
	if errors.Is(err, demo.ErrPostgresNotInstalled) || errors.Is(err, demo.ErrHAProxyNotInstalled) {
		t.Skipf("skipping: %v", err)
	}
	if err != nil {
		t.Fatalf("Run: %v\n%v", err, out.Errors)
	}
	if out.Verdict != runner.Passed {
		t.Fatalf("verdict %s, want passed: %v", out.Verdict, out.Errors)
	}
	s := out.Stack
	if len(s.Replicas) != 3 || s.Balancer == nil || len(s.Balancer.Servers) != 3 {
		t.Fatalf("stack %+v, want 3 replicas behind a balancer of 3 servers", s)
	}
	var requests int64
	for i, srv := range s.Balancer.Servers {
		if srv.Replica != s.Replicas[i] || srv.Addr != s.Replicas[i] || srv.Name != fmt.Sprintf("r%d", i) {
			t.Errorf("server %d %+v, want r%d at replica %s", i, srv, i, s.Replicas[i])
		}
		requests += srv.Requests
	}
	if sent := out.Totals.Ops - out.Totals.Dropped; requests != sent {
		t.Errorf("haproxy counted %d requests, the load sent %d (%d errors: %v)", requests, sent, out.Totals.Errors, out.Totals.ByClass)
	}
	for _, role := range []string{"service", "service[1]", "service[2]", "haproxy", "postgres"} {
		pid := s.PIDs[role]
		if pid == 0 {
			t.Errorf("no pid for %s in %v", role, s.PIDs)
			continue
		}
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("%s pid %d still there after the run (kill -0: %v)", role, pid, err)
		}
	}
}

// demoStack makes the demo stack, quiet, its PostgreSQL given minutes to
// start (initdb took over a minute beside a second test suite): a
// generous deadline, only to catch a hang.
func demoStack(t *testing.T) runner.StackFactory {
	t.Helper()
	return func(string) (runner.Stack, error) {
		return demo.NewStack(demo.StackConfig{Postgres: demo.PostgresConfig{StartTimeout: 5 * time.Minute}, Logger: zerolog.Nop()}), nil
	}
}

// TestStackAPIListIsTheReplicas: a target whose upstreams are
// ["${stack.api}"] gets a proxy per replica of the stack (the list is
// known only once the replicas run), and haproxy sends to those proxies.
func TestStackAPIListIsTheReplicas(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	exp := strings.Replace(replicasExperiment, "scenarios:",
		"targets:\n  api: {upstreams: [\"${stack.api}\"], protocol: http}\nscenarios:", 1)
	out, err := runner.Run(ctx, experiment(t, "", exp), runner.Options{Logger: zerolog.Nop(), Stack: demoStack(t)})
	if err != nil {
		t.Fatalf("Run: %v\n%v", err, out.Errors)
	}
	s := out.Stack
	if len(out.Targets) != 1 || len(out.Targets[0].Replicas) != 3 || s.Balancer == nil || len(s.Balancer.Servers) != 3 {
		t.Fatalf("targets %+v, balancer %+v: want 3 replica proxies behind 3 servers", out.Targets, s.Balancer)
	}
	var requests int64
	for i, rep := range out.Targets[0].Replicas {
		if rep.Upstream != s.Replicas[i] || s.Balancer.Servers[i].Addr != rep.Listen {
			t.Errorf("replica %d: proxy %s → %s, haproxy server %s; want the proxy in front of %s, haproxy at the proxy",
				i, rep.Listen, rep.Upstream, s.Balancer.Servers[i].Addr, s.Replicas[i])
		}
		requests += rep.Requests
	}
	if sent := out.Totals.Ops - out.Totals.Dropped; requests != sent {
		t.Errorf("the replicas' proxies counted %d requests, the load sent %d", requests, sent)
	}
}
