package config

import (
	"reflect"
	"strings"
	"testing"
)

// services is base with two services of the file's own and process faults
// on them.
const services = base + `stack:
  services:
    db: {command: "exec mydb --port 7000", ready: {tcp: "127.0.0.1:7000"}}
    app:
      command: [app, --db, "${targets.api}"]
      env: {PEER: "${stack.services.db.addr}", DB_PID: "${stack.services.db.pid}"}
      addr: 127.0.0.1:8080
      ready: {http: "http://127.0.0.1:8080/health", timeout: 10s}
      restart: on-failure
faults:
  - {name: crash, kind: kill, target: app, startTime: 1s}
  - {name: freeze, kind: pause, target: db, startTime: 2s, duration: 1s}
  - {name: hog, kind: cpu-hog, cores: 1, startTime: 2s, duration: 1s}
`

// TestStackServices: services keep file order, a command is an argument
// list or a shell string, and process faults name services.
func TestStackServices(t *testing.T) {
	t.Parallel()
	e, err := Parse("x.yaml", []byte(services), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := e.Stack.Services
	if len(s) != 2 || s[0].Name != "db" || s[1].Name != "app" {
		t.Fatalf("services %+v, want db then app", s)
	}
	if s[0].Command.Shell != "exec mydb --port 7000" || !reflect.DeepEqual(s[1].Command.Args, []string{"app", "--db", "${targets.api}"}) {
		t.Fatalf("commands %+v, %+v", s[0].Command, s[1].Command)
	}
	if got := e.StackProcesses(); !reflect.DeepEqual(got, []string{"db", "app"}) {
		t.Fatalf("StackProcesses = %v", got)
	}
}

// TestStackServiceErrors: each mistake is named where it was written.
func TestStackServiceErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		old, new, want string
	}{
		// a process fault's target is a process, not a proxy target
		{"target: app, startTime: 1s", "target: api, startTime: 1s", `unknown stack process "api" ("api" is a proxy target; kill acts on a process)`},
		// a service's variables are pid and addr
		{"${stack.services.db.pid}", "${stack.services.db.port}", `unknown stack address "services.db.port"`},
		// restart policies are a closed set
		{"restart: on-failure", "restart: sometimes", `unknown restart policy "sometimes"`},
		// one ready check
		{`ready: {tcp: "127.0.0.1:7000"}`, `ready: {tcp: "127.0.0.1:7000", log: "up"}`, "give one of http"},
		// a command is required
		{`command: "exec mydb --port 7000", `, "", "command: is required"},
		// a command is a list of strings or one string
		{`command: [app, --db, "${targets.api}"]`, `command: {app: 1}`, "a list of arguments"},
		// a host-wide fault has no target
		{"cores: 1,", "cores: 1, target: app,", "acts on the whole machine"},
	} {
		src := strings.Replace(services, c.old, c.new, 1)
		got := strings.Join(problems(t, src, Options{}), "\n")
		if !strings.Contains(got, c.want) {
			t.Errorf("%s → %s: problems\n%s\nwant one containing %q", c.old, c.new, got, c.want)
		}
	}
}
