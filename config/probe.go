package config

import (
	"strings"
	"time"
)

// Probe is a periodic health check run beside the load for the whole run:
// exactly one of HTTP (GET, expecting Expect), TCP (connect) or SQL (a
// query on a postgres target). Each attempt records probe_ok (the share
// that succeeded) and probe_latency, selected by {probe:NAME}.
type Probe struct {
	// Name is the probe's key in the file.
	Name string `yaml:"-"`
	// HTTP is a URL to GET.
	HTTP string `yaml:"http"`
	// Expect is the HTTP status that counts as healthy (default 200).
	Expect int `yaml:"expect"`
	// TCP is a host:port to connect to.
	TCP string `yaml:"tcp"`
	// SQL is a query (e.g. SELECT 1) run on Target's dsn.
	SQL string `yaml:"sql"`
	// Target is the postgres target whose dsn SQL uses.
	Target string `yaml:"target"`
	// Every is the period (default 1s).
	Every time.Duration `yaml:"every"`
	// Timeout bounds one attempt (default 1s); a timeout is a failure.
	Timeout time.Duration `yaml:"timeout"`
}

// The defaults of Probe.
const (
	DefaultProbeEvery   = time.Second
	DefaultProbeTimeout = time.Second
)

// Kind returns "http", "tcp" or "sql".
func (p *Probe) Kind() string {
	switch {
	case p.HTTP != "":
		return "http"
	case p.TCP != "":
		return "tcp"
	}
	return "sql"
}

// EveryOrDefault returns the period, with its default.
func (p *Probe) EveryOrDefault() time.Duration { return durOr(p.Every, DefaultProbeEvery) }

// TimeoutOrDefault returns the attempt timeout, with its default.
func (p *Probe) TimeoutOrDefault() time.Duration { return durOr(p.Timeout, DefaultProbeTimeout) }

func durOr(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func (c *checker) probes() {
	for i := range c.e.Probes {
		p := &c.e.Probes[i]
		path := "probes." + p.Name
		n := 0
		for _, s := range []string{p.HTTP, p.TCP, p.SQL} {
			if s != "" {
				n++
			}
		}
		if n != 1 {
			c.errorf(path, "needs exactly one of http (a URL), tcp (host:port) or sql (a query); it has %d", n)
			continue
		}
		c.probeKind(p, path)
		if p.Every < 0 || p.Timeout < 0 {
			c.errorf(path, "every and timeout must be positive (defaults 1s)")
		}
	}
}

func (c *checker) probeKind(p *Probe, path string) {
	switch p.Kind() {
	case "http":
		if !strings.HasPrefix(p.HTTP, "http://") && !strings.HasPrefix(p.HTTP, "https://") {
			c.errorf(path+".http", "must be a URL starting with http:// or https://")
		}
		if p.Expect != 0 && (p.Expect < 100 || p.Expect > 599) {
			c.errorf(path+".expect", "must be an HTTP status (100-599)")
		}
	case "tcp":
		if !strings.Contains(p.TCP, "${") && !validHostPort(p.TCP) {
			c.errorf(path+".tcp", "want host:port with a port from 1 to 65535, e.g. 127.0.0.1:5432, got %q", p.TCP)
		}
	default:
		if p.Target == "" {
			c.errorf(path+".target", "is required with sql: the postgres target whose dsn the query runs on")
			return
		}
		c.verifyTarget(p.Target, path+".target")
	}
	if p.Kind() != "http" && p.Expect != 0 {
		c.errorf(path+".expect", "applies only to http probes")
	}
}

// probeNames lists the probes' names.
func (c *checker) probeNames() []string {
	names := make([]string, len(c.e.Probes))
	for i, p := range c.e.Probes {
		names[i] = p.Name
	}
	return names
}

// probeThresholds checks that probe metrics name a probe of the file.
func (c *checker) probeThresholds(section string, ts Thresholds) {
	for _, t := range ts {
		if t.Metric.Name != "probe_ok" && t.Metric.Name != "probe_latency" {
			continue
		}
		path := section + "." + t.Key
		name := t.Metric.Tag("probe")
		switch {
		case len(c.e.Probes) == 0:
			c.errorAt(t.Pos, path, "%s needs a probe; add a probes: section", t.Metric.Name)
		case name != "" && !containsString(c.probeNames(), name):
			c.errorAt(t.Pos, path, "unknown probe %q%s; valid: %s", name, didYouMean(name, c.probeNames()),
				strings.Join(c.probeNames(), ", "))
		}
	}
}
