package config

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
)

// Validate checks the experiment as a whole and returns every problem at
// once, as Errors sorted by position; each names the field (by its path, as
// --set writes it) and says what would be valid. Parse calls it after
// filling in defaults; on an Experiment built in Go, zero values of optional
// fields count as their defaults.
func (e *Experiment) Validate() error {
	return e.check(nil).err()
}

// check runs every validation rule. failed holds paths the decoder already
// reported, whose problems are not reported again.
func (e *Experiment) check(failed map[string]bool) Errors {
	c := &checker{e: e, failed: failed}
	c.top()
	c.stack()
	c.targets()
	c.scenarios()
	c.faults()
	c.thresholdSets()
	c.recovery()
	c.verify()
	c.monitor()
	c.probes()
	c.stress()
	for _, set := range e.thresholdSections() {
		c.gaugeThresholds(set.name, set.ts)
		c.probeThresholds(set.name, set.ts)
	}
	c.refs()
	c.observation()
	c.dsnNeeds()
	c.ranges()
	return c.errs
}

// thresholdSection is one set of thresholds of the file, by its path.
type thresholdSection struct {
	name string
	ts   Thresholds
}

// thresholdSections lists every set of thresholds: the file's and each
// fault's own degradation.
func (e *Experiment) thresholdSections() []thresholdSection {
	out := []thresholdSection{{"thresholds", e.Thresholds}, {"degradation", e.Degradation}, {"abort", e.Abort}}
	for i := range e.Faults {
		out = append(out, thresholdSection{fmt.Sprintf("faults.%d.degradation", i), e.Faults[i].Degradation})
	}
	return out
}

// checker collects the problems of one Validate.
type checker struct {
	e      *Experiment
	errs   Errors
	failed map[string]bool
	// needDSN maps a postgres target without a dsn to what needs one.
	needDSN map[string][]string
	// reported holds the paths a problem was reported at.
	reported map[string]bool
}

// errorf reports a problem with the field at path, at its position (or its
// closest written ancestor's).
func (c *checker) errorf(path, format string, a ...any) {
	c.errorAt(c.e.posNear(path), path, format, a...)
}

// errorAt reports a problem with the field at path, at pos.
func (c *checker) errorAt(pos Pos, path, format string, a ...any) {
	if c.suppressed(path) {
		return
	}
	if c.reported == nil {
		c.reported = map[string]bool{}
	}
	c.reported[path] = true
	c.errs = append(c.errs, &Error{Pos: pos, Msg: prefix(path, withSpan(path, fmt.Sprintf(format, a...)))})
}

// suppressed reports whether the decoder already reported path or a field
// that contains it.
func (c *checker) suppressed(path string) bool {
	for p := path; ; {
		if c.failed[p] {
			return true
		}
		i := strings.LastIndexByte(p, '.')
		if i < 0 {
			return false
		}
		p = p[:i]
	}
}

func (c *checker) top() {
	e := c.e
	switch {
	case e.Version == 0:
		c.errorf("version", "is required; write version: %d", Version)
	case e.Version != Version:
		c.errorf("version", "unsupported version %d; this chaosload reads version %d", e.Version, Version)
	}
	if e.Name == "" {
		c.errorf("name", "is required; name the experiment, e.g. name: db-exhaustion")
	}
	if e.Warmup != nil && *e.Warmup < 0 {
		c.errorf("warmup", "must not be negative")
	}
}

// nameRE is what target and scenario names may be: they appear in
// ${targets.NAME}, in --set paths and in tag selectors.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func (c *checker) targets() {
	listens := map[string]string{}
	for i := range c.e.Targets {
		t := &c.e.Targets[i]
		path := "targets." + t.Name
		if !nameRE.MatchString(t.Name) {
			c.errorf(path, "target name %q may hold only letters, digits, - and _", t.Name)
		}
		c.upstreams(t, path)
		c.checkPath(t, path)
		c.listen(t, path, listens)
		if t.Protocol != "" && !containsString(Protocols, t.Protocol) {
			c.errorf(path+".protocol", "unknown protocol %q%s; valid: %s", t.Protocol, didYouMean(t.Protocol, Protocols), strings.Join(Protocols, ", "))
		}
		if t.DSN != "" && t.Protocol != "postgres" {
			c.errorf(path+".dsn", "applies only to postgres targets; this one's protocol is %s", or(t.Protocol, DefaultProtocol))
		}
	}
}

func (c *checker) upstream(t *Target, path string) {
	switch {
	case t.Upstream == "":
		c.errorf(path+".upstream", "is required: the real dependency's host:port, e.g. ${stack.postgres} or 127.0.0.1:5432")
	case strings.Contains(t.Upstream, "${"):
		// an address resolved at run time
	case !validHostPort(t.Upstream):
		c.errorf(path+".upstream", "want host:port with a port from 1 to 65535, e.g. 127.0.0.1:5432, got %q", t.Upstream)
	}
}

// listen checks that a proxy listens on this machine, on a port no other
// target fixed.
func (c *checker) listen(t *Target, path string, seen map[string]string) {
	if t.Listen == "" || t.Listen == DefaultListen {
		return
	}
	host, port, err := net.SplitHostPort(t.Listen)
	if err != nil || !isLoopback(host) || !validPort(port, 0) {
		c.errorf(path+".listen", "%q is not a loopback host:port; a proxy listens on this machine only, on a port "+
			"from 0 (a free port) to 65535, e.g. 127.0.0.1:0 or 127.0.0.1:16379", t.Listen)
		return
	}
	if port == "0" {
		return
	}
	if other, dup := seen[port]; dup {
		c.errorf(path+".listen", "port %s is also the listen port of target %q; give each target its own", port, other)
	}
	seen[port] = t.Name
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validHostPort reports whether s is an address to dial: a host and a port
// from 1 to 65535.
func validHostPort(s string) bool {
	host, port, err := net.SplitHostPort(s)
	return err == nil && host != "" && validPort(port, 1)
}

// validPort reports whether s is a port number from lo to 65535.
func validPort(s string, lo int) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= lo && n <= 65535
}

func (c *checker) recovery() {
	r := c.e.Recovery
	c.nonNegative("recovery.within", r.Within)
	c.nonNegative("recovery.hold", r.Hold)
	c.nonNegative("recovery.window", r.Window)
}

// listOr renders a list for a message, or what to say when it is empty.
func listOr(list []string, empty string) string {
	if len(list) == 0 {
		return empty
	}
	return strings.Join(list, ", ")
}
