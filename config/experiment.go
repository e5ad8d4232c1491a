// Package config owns the experiment file: its schema, a strict YAML decoder
// that reports every problem at once with file:line:col, defaults, `${...}`
// expansion, `--set` overrides, the threshold grammar, and Validate.
//
// config composes the spec types of package faults and package load; it never
// starts goroutines or opens sockets.
package config

import (
	"strconv"
	"time"

	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/load"
)

// Version is the experiment format version this package reads.
const Version = 1

// Experiment is one parsed experiment file.
type Experiment struct {
	// File is the path the experiment was read from.
	File string `yaml:"-"`

	Version     int      `yaml:"version"`
	Name        string   `yaml:"name"`
	Description string   `yaml:"description"`
	Tags        []string `yaml:"tags"`
	// Seed makes every random choice of a run repeatable. Zero: a seed is
	// drawn at run time and reported.
	Seed int64 `yaml:"seed"`

	// Stack, when set, starts the bundled demo stack for the run.
	Stack *Stack `yaml:"stack"`
	// Targets are the fault proxies, in file order.
	Targets []Target `yaml:"targets"`
	// Scenarios are the loads, in file order.
	Scenarios []load.Scenario `yaml:"scenarios"`

	// Warmup is the start of the load that is not judged (default 5s).
	Warmup *time.Duration `yaml:"warmup"`
	// Thresholds is the steady-state hypothesis: it must hold before the
	// first fault and after recovery.
	Thresholds Thresholds `yaml:"thresholds"`
	// Faults is the fault timeline. Faults are judged per episode
	// (Episodes).
	Faults []Fault `yaml:"faults"`
	// Degradation must hold while the faults of an episode are in effect
	// (a fault's own degradation: replaces it for that fault).
	Degradation Thresholds `yaml:"degradation"`
	// Recovery bounds the time back to steady state after each episode's
	// last fault ends (a fault's own recovery: overrides it).
	Recovery Recovery `yaml:"recovery"`
	// Abort stops the run early (faults reverted, exit 3) when a condition
	// holds.
	Abort Thresholds `yaml:"abort"`
	// Verify checks acknowledged writes after the run.
	Verify []Verify `yaml:"verify"`
	// Monitor names the target processes whose resources are sampled
	// (stress.md: target_cpu, target_rss, ...); nil monitors the demo
	// stack's processes when there is a stack, nothing otherwise.
	Monitor *Monitor `yaml:"monitor"`
	// Probes are periodic health checks run beside the load, in file
	// order.
	Probes []Probe `yaml:"probes"`
	// Stress steps one scenario's load up until a threshold breaks; nil
	// for an ordinary run.
	Stress *Stress `yaml:"stress"`

	// pos maps a field path ("faults.0.target") to where it was written.
	pos map[string]Pos
	// noScenariosOK is Options.NoScenariosOK.
	noScenariosOK bool
}

// Target is one fault proxy: clients connect to Listen, traffic goes to
// Upstream.
type Target struct {
	// Name is the target's key in the file.
	Name string `yaml:"-"`
	// Upstream is host:port of the real dependency.
	Upstream string `yaml:"upstream"`
	// Upstreams, instead of Upstream, are the replicas of the dependency:
	// one proxy each (replicas.go). An element that expands to a
	// comma-separated list stands for each of its addresses.
	Upstreams []string `yaml:"upstreams"`
	// BackShare is the share of its fair share of the work (the target's
	// total over its replicas) a replica must receive again, after a fault
	// on it is reverted, to be back in rotation (default 0.5; written
	// 0.5 or 50%).
	BackShare faults.Percent `yaml:"backShare"`
	// CheckPath is the path prefix of a load balancer's health checks on
	// an http target ("/health"): its proxies count them apart, so they are
	// not work that keeps a replica in rotation.
	CheckPath string `yaml:"checkPath"`
	// Listen is the proxy's address (default 127.0.0.1:0, a free port).
	Listen string `yaml:"listen"`
	// Protocol is tcp (default), http, postgres or redis.
	Protocol string `yaml:"protocol"`
	// DSN is a connection string for postgres targets, used by pool
	// exhaustion and verify.
	DSN string `yaml:"dsn"`
}

// The target protocols.
var Protocols = []string{"tcp", "http", "postgres", "redis"}

// The defaults of Target.
const (
	DefaultListen   = "127.0.0.1:0"
	DefaultProtocol = "tcp"
)

// Thresholds is a set of conditions per metric, in file order. In a file it
// is a mapping from a metric key to a list of expressions.
type Thresholds []Threshold

// Threshold is one condition on one (sub-)metric.
type Threshold struct {
	Metric MetricRef
	Cond   Condition
	// Key is the metric key as written.
	Key string
	// Pos is where the expression was written.
	Pos Pos
}

// Name renders the threshold as "key: expression".
func (t Threshold) Name() string { return t.Key + ": " + t.Cond.Text }

// Recovery bounds the return to steady state after an episode's last fault
// ends.
type Recovery struct {
	// Within is the bound (default 30s).
	Within time.Duration `yaml:"within"`
	// Hold is how long the thresholds must keep holding (default 10s).
	Hold time.Duration `yaml:"hold"`
	// Window is the length of the sliding windows judged (default 5s).
	Window time.Duration `yaml:"window"`
}

// The defaults of Recovery and Warmup.
const (
	DefaultWithin = 30 * time.Second
	DefaultHold   = 10 * time.Second
	DefaultWindow = 5 * time.Second
	DefaultWarmup = 5 * time.Second
)

// Verify checks that every write acknowledged by a step exists afterwards.
type Verify struct {
	// Acknowledged names the step whose `ack:` ids are checked.
	Acknowledged string `yaml:"acknowledged"`
	// Target is a postgres target whose dsn is used (SQL verify).
	Target string `yaml:"target"`
	// Exists is a query that returns a row when the id ($1) exists.
	Exists string `yaml:"exists"`
	// HTTP checks each id with a GET instead of SQL; set either it or
	// Target and Exists.
	HTTP *VerifyHTTP `yaml:"http"`
}

// VerifyHTTP checks an acknowledged id by HTTP: GET URL with {id} replaced
// by the id must answer Expect.
type VerifyHTTP struct {
	// URL holds {id}, e.g. http://${stack.api}/api/orders/{id}.
	URL string `yaml:"url"`
	// Expect is the status that proves the write exists (default 200).
	Expect int `yaml:"expect"`
}

// Pos is a place in an experiment file (or a --set override).
type Pos struct {
	File string
	Line int
	Col  int
}

// String renders "file:line:col", "file:line" when the column is unknown,
// and the file alone (or the --set argument) when the line is.
func (p Pos) String() string {
	switch {
	case p.Line <= 0:
		return p.File
	case p.Col <= 0:
		return p.File + ":" + strconv.Itoa(p.Line)
	}
	return p.File + ":" + strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col)
}

// WarmupOrDefault returns the warm-up length, with its default.
func (e *Experiment) WarmupOrDefault() time.Duration {
	if e.Warmup == nil {
		return DefaultWarmup
	}
	return *e.Warmup
}

// Target returns the target called name, nil when there is none.
func (e *Experiment) Target(name string) *Target {
	for i := range e.Targets {
		if e.Targets[i].Name == name {
			return &e.Targets[i]
		}
	}
	return nil
}

// Pos returns where the field at path ("faults.0.target") was written; the
// file alone when unknown.
func (e *Experiment) Pos(path string) Pos {
	if p, ok := e.pos[path]; ok {
		return p
	}
	return Pos{File: e.File}
}
