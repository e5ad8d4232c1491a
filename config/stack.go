package config

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/chaosload/chaosload/balancer"
	"github.com/chaosload/chaosload/bytesize"
)

// Stack is what chaosload starts for a run: the bundled demo stack (Name
// "demo"), the processes of the system under test (Services), or both.
type Stack struct {
	// Name is the bundled stack; only "demo" exists. Empty when the file
	// declares only its own services.
	Name string `yaml:"name"`
	// Mode is the demo service's behaviour: graceful (default) or naive.
	Mode string `yaml:"mode"`
	// AckBeforeCommit makes the demo service lose some acknowledged order
	// writes (every 10th), so verify can be seen catching them.
	AckBeforeCommit bool `yaml:"ackBeforeCommit"`
	// Restart is the demo service's restart policy (never, on-failure,
	// always). Default: on-failure in graceful mode, never in naive mode
	// (the naive deployment has no supervisor).
	Restart string `yaml:"restart"`
	// PostgresDisk puts the demo PostgreSQL's data directory on a
	// filesystem of its own of this size (a tmpfs; needs root), at
	// ${stack.postgres.disk}, for disk-fill. Zero: the temporary directory.
	PostgresDisk bytesize.Size `yaml:"postgresDisk"`
	// Replicas runs this many demo service processes (1 to 16), each
	// wired to the same PostgreSQL and Redis, behind a load balancer
	// (haproxy) at ${stack.lb}; ${stack.api} is then the replicas'
	// addresses joined by commas, ${stack.api[i]} replica i's. Zero: one
	// service and no balancer.
	Replicas int `yaml:"replicas"`
	// Balancer tunes the load balancer in front of the replicas.
	Balancer Balancer `yaml:"balancer"`
	// Services are the processes of the system under test, started in file
	// order after the proxies, each ready before the next.
	Services []Service `yaml:"services"`
}

// Balancer is the load balancer in front of the demo's replicas:
//
//	balancer: {check: http}   # http (default), tcp or none
type Balancer struct {
	// Check is its health check: http (GET /healthz answering 2xx), tcp
	// (a connection accepted) or none (a replica never leaves rotation).
	// Default http.
	Check string `yaml:"check"`
}

// Service is one process of the system under test:
//
//	app:
//	  command: ["miniflux"]              # argv, no shell; or a shell string
//	  env: {DATABASE_URL: "postgres://app@${targets.postgres}/miniflux"}
//	  dir: ./
//	  addr: 127.0.0.1:8080               # ${stack.services.app.addr}
//	  ready: {http: "http://127.0.0.1:8080/healthcheck", timeout: 30s}
//	  restart: on-failure
type Service struct {
	// Name is the service's key in the file.
	Name string `yaml:"-"`
	// Command is the program and its arguments, or a shell string.
	Command Command `yaml:"command"`
	// Env is added to chaosload's environment.
	Env map[string]string `yaml:"env"`
	// Dir is the working directory (default chaosload's).
	Dir string `yaml:"dir"`
	// Addr is the service's host:port, as ${stack.services.NAME.addr}.
	// Default: the address of its ready check.
	Addr string `yaml:"addr"`
	// Ready says when it is ready; nil: as soon as it started.
	Ready *Ready `yaml:"ready"`
	// Restart is never (default), on-failure or always; Backoff the first
	// wait before a restart (default 100ms, doubling up to 10s).
	Restart string        `yaml:"restart"`
	Backoff time.Duration `yaml:"backoff"`
}

// Command is a service's command: Args (`command: [app, --port, "8080"]`,
// no shell) or Shell (`command: "app --port 8080"`, run by /bin/sh -c).
type Command struct {
	Args  []string
	Shell string
}

// IsZero reports whether no command was given.
func (c Command) IsZero() bool { return len(c.Args) == 0 && c.Shell == "" }

// Ready is a service's readiness check: one of HTTP (a GET answering
// 2xx), TCP (a connection accepted) and Log (a line of its output matching
// a regular expression), within Timeout (default 30s).
type Ready struct {
	HTTP    string        `yaml:"http"`
	TCP     string        `yaml:"tcp"`
	Log     string        `yaml:"log"`
	Timeout time.Duration `yaml:"timeout"`
}

// DefaultReadyTimeout is Ready.Timeout's default.
const DefaultReadyTimeout = 30 * time.Second

// RestartPolicies are the values of restart:.
var RestartPolicies = []string{"never", "on-failure", "always"}

// DemoRoles are the processes of the demo stack, as fault targets.
var DemoRoles = []string{"service", "postgres", "redis"}

// ServiceVars are the ${stack.services.NAME.X} a service offers.
var ServiceVars = []string{"pid", "addr"}

// StackProcesses lists the names a process fault's target may take: the
// demo stack's roles, then the file's services.
func (e *Experiment) StackProcesses() []string {
	var names []string
	if e.Stack == nil {
		return nil
	}
	if e.Stack.Name == "demo" {
		names = append(names, DemoRoles...)
	}
	for _, s := range e.Stack.Services {
		names = append(names, s.Name)
	}
	return names
}

// Service returns the service called name, nil when there is none.
func (e *Experiment) Service(name string) *Service {
	if e.Stack == nil {
		return nil
	}
	for i := range e.Stack.Services {
		if e.Stack.Services[i].Name == name {
			return &e.Stack.Services[i]
		}
	}
	return nil
}

func (c *checker) stack() {
	s := c.e.Stack
	if s == nil {
		return
	}
	switch {
	case s.Name == "" && len(s.Services) == 0:
		c.errorf("stack.name", "is required; valid: %s (or declare services: {NAME: {command: [...]}})", strings.Join(StackNames, ", "))
	case s.Name != "" && !containsString(StackNames, s.Name):
		c.errorf("stack.name", "unknown stack %q%s; valid: %s", s.Name, didYouMean(s.Name, StackNames), strings.Join(StackNames, ", "))
	}
	demoOnly := func(field string, set bool) {
		if set && s.Name == "" && len(s.Services) > 0 {
			c.errorf("stack."+field, "is a setting of the demo stack; add name: demo or remove it")
		}
	}
	demoOnly("mode", s.Mode != "")
	demoOnly("restart", s.Restart != "")
	demoOnly("postgresDisk", s.PostgresDisk != 0)
	demoOnly("ackBeforeCommit", s.AckBeforeCommit)
	demoOnly("replicas", s.Replicas != 0)
	demoOnly("balancer", s.Balancer != Balancer{})
	c.balancer(s)
	if s.Mode != "" && !containsString(StackModes, s.Mode) {
		c.errorf("stack.mode", "unknown mode %q%s; valid: %s", s.Mode, didYouMean(s.Mode, StackModes), strings.Join(StackModes, ", "))
	}
	c.restartPolicy("stack.restart", s.Restart)
	if s.PostgresDisk != 0 && s.PostgresDisk < 32<<20 {
		c.errorf("stack.postgresDisk", "must be at least 32MB: the cluster's own files take about 25MB")
	}
	for i := range s.Services {
		c.service(&s.Services[i])
	}
}

// balancer checks the balancer's settings, which need replicas.
func (c *checker) balancer(s *Stack) {
	if s.Balancer == (Balancer{}) {
		return
	}
	if s.Replicas == 0 && s.Name != "" {
		c.errorf("stack.balancer", "balances the demo's replicas; add replicas: N (1 to %d)", MaxReplicas)
	}
	if ch := s.Balancer.Check; ch != "" && !containsString(balancer.Checks, ch) {
		c.errorf("stack.balancer.check", "unknown check %q%s; valid: %s", ch, didYouMean(ch, balancer.Checks), strings.Join(balancer.Checks, ", "))
	}
}

func (c *checker) restartPolicy(path, p string) {
	if p != "" && !containsString(RestartPolicies, p) {
		c.errorf(path, "unknown restart policy %q%s; valid: %s", p, didYouMean(p, RestartPolicies), strings.Join(RestartPolicies, ", "))
	}
}

func (c *checker) service(s *Service) {
	path := "stack.services." + s.Name
	if !nameRE.MatchString(s.Name) {
		c.errorf(path, "a service name may hold letters, digits, _ and - only (it is used in ${stack.services.NAME.pid})")
	}
	if c.e.Stack.Name == "demo" && containsString(DemoRoles, s.Name) {
		c.errorf(path, "%q is a process of the demo stack; name the service otherwise", s.Name)
	}
	if s.Command.IsZero() {
		c.errorf(path+".command", `is required: the program and its arguments (command: ["app", "--port", "8080"]) or a shell string`)
	}
	c.restartPolicy(path+".restart", s.Restart)
	c.nonNegative(path+".backoff", s.Backoff)
	if r := s.Ready; r != nil {
		n := 0
		for _, set := range []bool{r.HTTP != "", r.TCP != "", r.Log != ""} {
			if set {
				n++
			}
		}
		if n != 1 {
			c.errorf(path+".ready", "give one of http (a URL answering 2xx), tcp (host:port accepting) and log (a regular expression of its output)")
		}
		if r.Log != "" {
			if _, err := regexp.Compile(r.Log); err != nil {
				c.errorf(path+".ready.log", "not a regular expression: %v", err)
			}
		}
		c.nonNegative(path+".ready.timeout", r.Timeout)
	}
}

// stackRefOK reports whether NAME of ${stack.NAME} is offered by the
// stack, and what is, for the error.
func (c *checker) stackRefOK(name string) (bool, []string) {
	var valid []string
	if c.e.Stack.Name == "demo" {
		valid = append(valid, StackAddrs...)
		valid = append(valid, "postgres.disk")
		for i := range c.e.Stack.Replicas {
			valid = append(valid, fmt.Sprintf("api[%d]", i))
		}
		if c.e.Stack.Replicas > 0 {
			valid = append(valid, "lb")
		}
	}
	for _, s := range c.e.Stack.Services {
		for _, v := range ServiceVars {
			valid = append(valid, fmt.Sprintf("services.%s.%s", s.Name, v))
		}
	}
	if name == "postgres.disk" && c.e.Stack.PostgresDisk == 0 {
		return false, valid
	}
	return containsString(valid, name), valid
}

// StackAddrs are the demo stack addresses an experiment may name as
// ${stack.NAME}.
var StackAddrs = []string{"api", "postgres", "redis"}

// MaxReplicas is the most demo service replicas a stack may run.
const MaxReplicas = 16

// StackNames lists the bundled stacks.
var StackNames = []string{"demo"}

// StackModes lists the demo service's modes; the first is the default.
var StackModes = []string{"graceful", "naive"}
