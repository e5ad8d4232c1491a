package runner_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/chaosload/chaosload/runner"
)

// fakeStack is a runner.Stack whose backends and service are one HTTP
// server, and whose "service" process is this test process.
type fakeStack struct{ addr string }

func (s fakeStack) StartBackends(context.Context) (string, string, error) { return s.addr, s.addr, nil }
func (s fakeStack) StartService(context.Context, string, string, string) (string, error) {
	return s.addr, nil
}
func (s fakeStack) Close() error              { return nil }
func (s fakeStack) Processes() map[string]int { return map[string]int{"service": os.Getpid()} }

const stackExperiment = `
version: 1
name: stack-processes
stack: {name: demo}
targets:
  api: {upstream: "${stack.api}", protocol: http}
scenarios:
  users:
    executor: constant-arrival-rate
    rate: 10
    duration: 2s
    preAllocatedVUs: 2
    steps:
      - http: {url: "http://${targets.api}/"}
monitor: {every: 100ms}
`

// TestStackProcessesReported: the stack's processes are announced once it is
// up (a stack-started event naming each role's PID), recorded in the
// outcome's stack, and monitored each on its own under its role.
func TestStackProcessesReported(t *testing.T) {
	t.Parallel()
	addr := okServer(t)
	ev := newEvents()
	out, err := runner.Run(context.Background(), experiment(t, "", stackExperiment), runner.Options{
		OnEvent: ev.on,
		Stack:   func(string) (runner.Stack, error) { return fakeStack{addr}, nil },
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	pid := os.Getpid()
	var started runner.Event
	for _, e := range ev.all { // Run has returned: every event is in
		if e.Kind == "stack-started" {
			started = e
		}
	}
	if want := "service pid " + strconv.Itoa(pid) + " at " + addr; !strings.Contains(started.Message, want) {
		t.Errorf("stack-started %q lacks %q", started.Message, want)
	}
	if out.Stack == nil || out.Stack.PIDs["service"] != pid {
		t.Errorf("stack %+v, want the service's pid %d", out.Stack, pid)
	}
	res := out.Resources
	if res == nil || len(res.Processes) != 1 {
		t.Fatalf("resources %+v, want one process", res)
	}
	p := res.Processes[0]
	if p.Name != "service" || p.PID != pid || !p.Children || p.RSSPeak < 1 || p.ThreadsPeak < 1 || p.FDsPeak < 1 {
		t.Errorf("service's resources %+v", p)
	}
	if p.RSSPeak > res.RSSPeak {
		t.Errorf("one process's RSS peak %v above the sum's %v", p.RSSPeak, res.RSSPeak)
	}
}
