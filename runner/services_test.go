package runner_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/chaosload/chaosload/demo"
	"github.com/chaosload/chaosload/host"
	"github.com/chaosload/chaosload/runner"
)

// freeAddr is a loopback address free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// webdisExperiment is a new user's file: webdis (an HTTP interface to
// Redis nobody here wrote, from Debian) as a service of the stack, talking
// to Redis through a proxy; the load reads a key over HTTP through another.
// Redis gets 200 ms slower from 8 s to 12 s; webdis is killed at 14 s.
const webdisExperiment = `version: 1
name: webdis
stack:
  services:
    webdis:
      command: [webdis, "%s"]
      ready: {http: "http://%s/PING", timeout: 20s}
      restart: %s
targets:
  redis: {upstream: "%s", listen: "%s", protocol: redis}
  api: {upstream: "${stack.services.webdis.addr}", protocol: http}
scenarios:
  readers:
    executor: constant-arrival-rate
    rate: 40
    timeUnit: 1s
    duration: 32s
    preAllocatedVUs: 20
    maxVUs: 100
    steps:
      - name: get
        http: {url: "http://${targets.api}/GET/greeting", timeout: 2s}
thresholds:
  errors: ["rate < 1%%"]
faults:
  - {name: redis-slow, target: redis, kind: latency, latency: 200ms, startTime: 8s, duration: 4s}
  - {name: webdis-killed, target: webdis, kind: kill, startTime: 14s}
degradation:
  latency: ["p(99) < 2s"]
recovery: {within: 8s, hold: 3s, window: 2s}
`

// runWebdis runs webdisExperiment with a restart policy.
func runWebdis(t *testing.T, restart string) *runner.Outcome {
	t.Helper()
	if _, err := exec.LookPath("webdis"); err != nil {
		t.Skip("webdis is not installed (apt-get install webdis; scripts/deps.sh installs it)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rd, err := demo.StartRedis(ctx, demo.RedisConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rd.Close() })
	redisProxy, httpAddr := freeAddr(t), freeAddr(t)
	rhost, rport, _ := net.SplitHostPort(redisProxy)
	hhost, hport, _ := net.SplitHostPort(httpAddr)
	dir := t.TempDir()
	cfg := map[string]any{"redis_host": rhost, "redis_port": atoi(rport), "http_host": hhost, "http_port": atoi(hport),
		"threads": 1, "daemonize": false, "database": 0, "verbosity": 3, "logfile": filepath.Join(dir, "webdis.log")}
	data, _ := json.Marshal(cfg)
	cfgFile := filepath.Join(dir, "webdis.json")
	if err := os.WriteFile(cfgFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	yaml := fmt.Sprintf(webdisExperiment, cfgFile, httpAddr, restart, rd.Addr(), redisProxy)
	exp := experiment(t, "", yaml)
	ev := newEvents()
	out, err := runner.Run(ctx, exp, runner.Options{Logger: zerolog.Nop(), OnEvent: ev.on, LogDir: filepath.Join(dir, "logs")})
	if err != nil {
		t.Fatalf("run: %v\n%+v", err, out.Errors)
	}
	return out
}

func atoi(s string) int { var n int; fmt.Sscan(s, &n); return n }

// phase returns the run's first phase called name.
func phase(t *testing.T, out *runner.Outcome, name string) runner.Phase {
	t.Helper()
	for _, p := range out.Phases {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no phase %q in %+v", name, out.Phases)
	return runner.Phase{}
}

// TestWebdisServiceLatencyAndKill: a service nobody here wrote, started
// from the file, restarted by its policy. The verdict agrees with what the
// client saw: the latency fault made its reads at least 200 ms slower
// (p50 of the fault phase), the kill made some fail, the new process
// served them again, and the run passes.
func TestWebdisServiceLatencyAndKill(t *testing.T) {
	out := runWebdis(t, "on-failure")
	if out.Verdict != runner.Passed {
		t.Fatalf("verdict %s, want passed: %+v\n%+v", out.Verdict, out.Checks, out.Errors)
	}
	if p := phase(t, out, "fault"); p.P50MS < 200 {
		t.Errorf("fault phase p50 %.1fms: the client did not see the 200ms Redis latency", p.P50MS)
	}
	if s := phase(t, out, "steady"); s.Errors != 0 || s.Ops == 0 {
		t.Errorf("steady phase after the kill: %d errors of %d", s.Errors, s.Ops)
	}
	var kill *runner.FaultResult
	for i := range out.Faults {
		if out.Faults[i].Name == "webdis-killed" {
			kill = &out.Faults[i]
		}
	}
	if kill == nil || kill.Effect == nil || kill.Effect.Host == nil || kill.Effect.Host.NewPID == 0 || kill.Effect.Host.NewPID == kill.Effect.Host.PIDs[0] || kill.Effect.Host.ReadyAfterS <= 0 {
		t.Fatalf("kill fault %+v: want the webdis pid killed and a new one ready", kill)
	}
	svc := out.Stack.Services
	if len(svc) != 1 || len(svc[0].Exits) != 1 || svc[0].Exits[0].Fault != "webdis-killed" {
		t.Fatalf("stack services %+v: want webdis with one exit, caused by the kill", svc)
	}
	t.Logf("webdis pid %d killed at %.1fs, pid %d ready %.2fs later; fault phase p50 %.0fms; %d errors in all",
		kill.Effect.Host.PIDs[0], svc[0].Exits[0].AtS, kill.Effect.Host.NewPID, kill.Effect.Host.ReadyAfterS, phase(t, out, "fault").P50MS, out.Totals.Errors)
}

// TestWebdisServiceWithoutRestartFails: the same file with restart: never:
// the killed service stays down, the clients' reads fail from then on, and
// the run fails naming the service.
func TestWebdisServiceWithoutRestartFails(t *testing.T) {
	out := runWebdis(t, "never")
	if out.Verdict != runner.Failed {
		t.Fatalf("verdict %s, want failed", out.Verdict)
	}
	for _, c := range out.Checks {
		if c.Name == "webdis: stays up" && !c.Passed {
			t.Logf("%s: %s", c.Name, c.Observed)
			return
		}
	}
	t.Fatalf("no failed webdis check in %+v", out.Checks)
}

// TestServiceNotReadyIsInfra: a service that never becomes ready stops the
// run before the load (an infrastructure error, exit 4), naming the
// service and the end of its log; nothing of it keeps running.
func TestServiceNotReadyIsInfra(t *testing.T) {
	exp := experiment(t, okServer(t), `version: 1
name: not-ready
stack:
  services:
    slow:
      command: "echo starting up, never listening; exec sleep 300"
      ready: {tcp: "`+freeAddr(t)+`", timeout: 300ms}
targets:
  api: {upstream: "${UP}", protocol: http}
scenarios:
  s:
    executor: constant-vus
    vus: 1
    duration: 5s
    steps:
      - http: {url: "http://${targets.api}/"}
`)
	out, err := runner.Run(context.Background(), exp, runner.Options{Logger: zerolog.Nop()})
	var ie *runner.InfraError
	if !errors.As(err, &ie) {
		t.Fatalf("Run = %v, want an infrastructure error", err)
	}
	for _, want := range []string{`stack service "slow"`, "not ready", "starting up, never listening"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if out.Verdict != runner.Errored {
		t.Errorf("verdict %s, want errored", out.Verdict)
	}
}

// TestProcessFaultPreflight: a process fault on a process that does not
// exist is an infrastructure error at preflight, before any load.
func TestProcessFaultPreflight(t *testing.T) {
	exp := experiment(t, okServer(t), `version: 1
name: no-such-process
targets:
  api: {upstream: "${UP}", protocol: http}
scenarios:
  s:
    executor: constant-vus
    vus: 1
    duration: 20s
    steps:
      - http: {url: "http://${targets.api}/"}
faults:
  - {name: freeze, kind: pause, process: no-such-program-here, startTime: 6s, duration: 2s}
`)
	out, err := runner.Run(context.Background(), exp, runner.Options{Logger: zerolog.Nop()})
	if err == nil || !strings.Contains(err.Error(), `preflight: fault "freeze" (pause): no process named "no-such-program-here"`) {
		t.Fatalf("Run = %v, want the preflight naming the fault and the missing process", err)
	}
	if out.Totals.Ops != 0 {
		t.Errorf("%d operations ran: the preflight must stop the run before the load", out.Totals.Ops)
	}
}

// TestHogsInARun: a cpu-hog and a memory-hog applied by the timeline burn
// CPU and hold the memory asked (the hog's own figures), and their
// processes are gone once the run ends.
func TestHogsInARun(t *testing.T) {
	exp := experiment(t, okServer(t), `version: 1
name: hogs
targets:
  api: {upstream: "${UP}", protocol: http}
scenarios:
  s:
    executor: constant-vus
    vus: 1
    duration: 9s
    steps:
      - http: {url: "http://${targets.api}/"}
        think: 100ms
faults:
  - {name: busy, kind: cpu-hog, cores: 1, startTime: 6s, duration: 2s, expectEffect: true}
  - {name: greedy, kind: memory-hog, bytes: 64MiB, startTime: 6s, duration: 2s, expectEffect: true}
`)
	out, err := runner.Run(context.Background(), exp, runner.Options{Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range out.Faults {
		if f.Effect == nil || f.Effect.Host == nil || !f.Effect.Changed || len(f.Effect.Host.PIDs) != 1 {
			t.Fatalf("fault %s: %+v, want a hog's effect", f.Name, f)
		}
		e := f.Effect.Host
		switch f.Kind {
		case "cpu-hog":
			if e.CPUTimeS <= 0 {
				t.Errorf("cpu-hog burnt %.2fs of CPU", e.CPUTimeS)
			}
		case "memory-hog":
			if e.Resident < 64<<20 {
				t.Errorf("memory-hog held %d bytes, want at least 64 MiB", e.Resident)
			}
		}
		if host.Alive(e.PIDs[0]) {
			t.Errorf("%s's hog %d still alive after the run", f.Kind, e.PIDs[0])
		}
		t.Logf("%s: %s", f.Name, runner.EffectSummary(f.Effect))
	}
}
