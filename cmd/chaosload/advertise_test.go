package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaosload/chaosload/runner"
)

// TestDistributedAdvertisedProxies: run --workers 2 --advertise 127.0.0.2
// puts the api proxy on 127.0.0.2 (another loopback address on Linux, so
// the address proves the proxy bound the advertised host, not 127.0.0.1);
// the two workers reach it at the address the coordinator sent them, and
// the run passes with the whole schedule offered and answered.
func TestDistributedAdvertisedProxies(t *testing.T) {
	d := startDistributed(t, 2, "--advertise", "127.0.0.2")
	w0, w1 := d.worker(t, 0), d.worker(t, 1)
	r := d.end(t)
	r.expect(t, exitOK, runner.Passed)
	expectWorkersOK(t, w0, w1)
	if len(r.out.Targets) != 1 || !strings.HasPrefix(r.out.Targets[0].Listen, "127.0.0.2:") {
		t.Fatalf("targets %+v, want the api proxy on 127.0.0.2", r.out.Targets)
	}
	if r.out.Workers != 2 || r.out.Totals.Ops != 300 {
		t.Fatalf("workers %d, operations %d; want 2 workers and the schedule's 300", r.out.Workers, r.out.Totals.Ops)
	}
}

// unreachableScenario is a scenario whose one step goes to URL.
const unreachableScenario = `scenarios:
  users:
    executor: constant-arrival-rate
    rate: 10
    duration: 1s
    preAllocatedVUs: 1
    steps:
      - name: get
        http: {url: "%s"}
`

// listenedExperiment has a target with a listen address of its own: on
// loopback, where workers on other machines cannot reach it.
var listenedExperiment = `version: 1
name: listened
targets:
  api: {upstream: "127.0.0.1:1", protocol: http, listen: "127.0.0.1:0"}
` + fmt.Sprintf(unreachableScenario, "http://${targets.api}/")

// stackStepExperiment has a step that names the stack's service directly,
// an address on the coordinator's loopback.
var stackStepExperiment = `version: 1
name: stack-step
stack: {name: demo}
` + fmt.Sprintf(unreachableScenario, "http://${stack.api}/")

// writeExperiments writes each named experiment into a temporary
// directory and returns their paths by name.
func writeExperiments(t *testing.T, files map[string]string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	paths := map[string]string{}
	for name, content := range files {
		paths[name] = filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(paths[name], []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return paths
}

// TestAdvertiseRefused: every misuse of --advertise is refused before
// anything starts, exit 2, with a message naming the problem.
func TestAdvertiseRefused(t *testing.T) {
	f := writeExperiments(t, map[string]string{"plain": strings.ReplaceAll(listenedExperiment, `, listen: "127.0.0.1:0"`, ""),
		"listened": listenedExperiment, "stack-step": stackStepExperiment})
	tests := []struct {
		env  []string
		args []string
		want string
	}{
		// not a distributed run
		{nil, []string{f["plain"], "--advertise", "127.0.0.1"}, "--advertise 127.0.0.1 needs --workers N"},
		// the same from the environment
		{[]string{"CHAOSLOAD_ADVERTISE=127.0.0.1"}, []string{f["plain"]}, "--advertise 127.0.0.1 needs --workers N"},
		// a name, not an IP
		{nil, []string{f["plain"], "--workers", "2", "--advertise", "coordinator.local"}, `--advertise "coordinator.local": want this machine's IP address`},
		// beyond loopback without the workers' token (a documentation address: refused before any bind)
		{nil, []string{f["plain"], "--workers", "2", "--advertise", "192.0.2.1"}, "--advertise 192.0.2.1 is reachable beyond this machine: give the workers' token"},
		// a target keeps its own loopback listen address
		{nil, []string{f["listened"], "--workers", "2", "--advertise", "127.0.0.1"}, "targets.api.listen: target api listens on 127.0.0.1:0"},
		// a step names the stack's loopback address
		{nil, []string{f["stack-step"], "--workers", "2", "--advertise", "127.0.0.1"}, "${stack.api} is an address on the coordinator's loopback"},
	}
	for _, tc := range tests {
		r := chaosload(t, tc.env, append([]string{"run", "--quiet"}, tc.args...)...)
		if r.code != exitInvalid || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v %q: exit %d, stderr %q; want exit 2 saying %q", tc.env, tc.args, r.code, r.stderr, tc.want)
		}
	}
}
