package config

import (
	"fmt"
	"strconv"
	"strings"
)

// Replicas: a target with `upstreams: [a, b, c]` runs one proxy per
// upstream, a replica. ${targets.NAME} is then the replicas' listen
// addresses joined by commas ("host:port,host:port,..."), and
// ${targets.NAME[i]} is replica i's alone (i counts from 0; NAME[0] is a
// single-upstream target's address too). An element of upstreams that
// expands to a comma-separated list (a ${stack.NAME} naming several
// replicas) stands for each of its addresses.

// DefaultBackShare is the share of its fair share of the work a replica must
// receive again to count as back in rotation after a fault is reverted.
const DefaultBackShare = 0.5

// UpstreamList returns the target's upstreams as written: Upstreams, or
// Upstream alone. An element may still hold ${...}, and expand to several
// addresses (SplitAddrs).
func (t *Target) UpstreamList() []string {
	if len(t.Upstreams) > 0 {
		return t.Upstreams
	}
	if t.Upstream == "" {
		return nil
	}
	return []string{t.Upstream}
}

// ReplicaCount returns how many replicas the target has when the file says
// it (no element of its upstreams is resolved at run time), ok false
// otherwise.
func (t *Target) ReplicaCount() (n int, ok bool) {
	for _, u := range t.UpstreamList() {
		if strings.Contains(u, "${") {
			return 0, false
		}
		n += len(SplitAddrs(u))
	}
	return n, true
}

// BackShareOrDefault returns the target's back-in-rotation share, a
// fraction, with its default.
func (t *Target) BackShareOrDefault() float64 {
	if t.BackShare <= 0 {
		return DefaultBackShare
	}
	return float64(t.BackShare)
}

// SplitAddrs splits a comma-separated list of addresses, dropping empty
// elements and spaces.
func SplitAddrs(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// ReplicaName names replica i of target: "api[1]"; a target of one
// upstream keeps its own name.
func ReplicaName(target string, i, count int) string {
	if count <= 1 {
		return target
	}
	return target + "[" + strconv.Itoa(i) + "]"
}

// splitIndex splits "api[1]" into "api" and 1; a name without an index
// returns index -1, and bad reports an index that is not a whole number.
func splitIndex(name string) (base string, index int, bad bool) {
	open := strings.IndexByte(name, '[')
	if open < 0 || !strings.HasSuffix(name, "]") {
		return name, -1, false
	}
	i, err := strconv.Atoi(name[open+1 : len(name)-1])
	if err != nil || i < 0 {
		return name[:open], -1, true
	}
	return name[:open], i, false
}

// upstreams checks a target's upstream or upstreams.
func (c *checker) upstreams(t *Target, path string) {
	switch {
	case t.Upstream != "" && len(t.Upstreams) > 0:
		c.errorf(path+".upstreams", "upstream and upstreams are exclusive: give one address as upstream, "+
			"or the replicas as upstreams: [a, b, ...]")
		return
	case len(t.Upstreams) == 0:
		c.upstream(t, path)
		return
	}
	for i, u := range t.Upstreams {
		ep := path + ".upstreams." + strconv.Itoa(i)
		if strings.Contains(u, "${") {
			continue // resolved at run time
		}
		addrs := SplitAddrs(u)
		if len(addrs) == 0 {
			c.errorf(ep, "is empty; want host:port, e.g. 127.0.0.1:8081")
		}
		for _, a := range addrs {
			if !validHostPort(a) {
				c.errorf(ep, "want host:port with a port from 1 to 65535, e.g. 127.0.0.1:8081, got %q", a)
			}
		}
	}
}

// checkPath checks a target's checkPath.
func (c *checker) checkPath(t *Target, path string) {
	switch {
	case t.CheckPath == "":
	case t.Protocol != "http":
		c.errorf(path+".checkPath", "applies only to http targets; this one's protocol is %s", or(t.Protocol, DefaultProtocol))
	case !strings.HasPrefix(t.CheckPath, "/"):
		c.errorf(path+".checkPath", "want a path such as /health, got %q", t.CheckPath)
	}
}

// targetIndex checks the index of a ${targets.NAME[i]} against the
// replicas of the target, when the file says how many there are.
func (c *checker) targetIndex(pos Pos, path string, t varToken, name string, index int) {
	if index < 0 {
		return
	}
	if n, ok := c.e.Target(name).ReplicaCount(); ok && index >= n {
		c.errorAt(pos, path, "%s: %s", t.Raw, IndexError(name, index, n))
	}
}

// IndexError says that replica index of target does not exist.
func IndexError(target string, index, count int) string {
	return fmt.Sprintf("target %q has %d %s (indexes 0 to %d), no replica %d",
		target, count, plural(count, "replica"), count-1, index)
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// CheckTargetIndexes reports every ${targets.NAME[i]} of the experiment
// whose index is not below count(NAME), the target's replicas once they are
// known; the error, when not nil, is of type Errors.
func (e *Experiment) CheckTargetIndexes(count func(target string) int) error {
	var errs Errors
	e.eachRef(func(path string, pos Pos, t varToken, bad *SyntaxError) {
		section, rest, ok := runtimeRef(t.Name)
		if bad != nil || !ok || section != "targets" {
			return
		}
		name, index, _ := splitIndex(rest)
		if n := count(name); index >= 0 && n > 0 && index >= n {
			errs = append(errs, &Error{Pos: pos, Msg: prefix(path, t.Raw+": "+IndexError(name, index, n))})
		}
	})
	return errs.err()
}
