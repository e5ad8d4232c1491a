package config

import (
	"fmt"
	"strings"
)

// verify checks each verify: entry: a step with ack:, a postgres target with
// a dsn, and a query that uses the id.
func (c *checker) verify() {
	for i, v := range c.e.Verify {
		path := fmt.Sprintf("verify.%d", i)
		c.verifyStep(v.Acknowledged, path+".acknowledged")
		if v.HTTP != nil {
			c.verifyHTTP(v, path)
			continue
		}
		c.verifyTarget(v.Target, path+".target")
		switch {
		case v.Exists == "":
			c.errorf(path+".exists", "is required: a query that returns a row when the id ($1) exists, "+
				"e.g. SELECT 1 FROM orders WHERE id = $1")
		case !strings.Contains(v.Exists, "$1"):
			c.errorf(path+".exists", "must use $1, the acknowledged id, e.g. SELECT 1 FROM orders WHERE id = $1")
		}
	}
}

// verifyHTTP checks an HTTP verify: a URL with {id}, no SQL fields.
func (c *checker) verifyHTTP(v Verify, path string) {
	switch {
	case v.HTTP.URL == "":
		c.errorf(path+".http.url", "is required: the URL that answers for an id, e.g. http://${stack.api}/api/orders/{id}")
	case !strings.Contains(v.HTTP.URL, VerifyIDPlaceholder):
		c.errorf(path+".http.url", "must hold {id}, where the acknowledged id goes, e.g. http://${stack.api}/api/orders/{id}")
	case !strings.HasPrefix(v.HTTP.URL, "http://") && !strings.HasPrefix(v.HTTP.URL, "https://"):
		c.errorf(path+".http.url", "must start with http:// or https://")
	}
	if v.HTTP.Expect != 0 && (v.HTTP.Expect < 100 || v.HTTP.Expect > 599) {
		c.errorf(path+".http.expect", "must be an HTTP status (100-599), e.g. 200")
	}
	if v.Target != "" || v.Exists != "" {
		c.errorf(path+".http", "checks by HTTP; remove target and exists (they belong to a SQL verify)")
	}
}

// VerifyIDPlaceholder is where an HTTP verify's URL takes the id.
const VerifyIDPlaceholder = "{id}"

func (c *checker) verifyStep(name, path string) {
	acked := c.stepNames(true)
	switch {
	case name == "":
		c.errorf(path, "is required: the name of a step with ack:; steps with ack: %s", listOr(acked, "none"))
	case containsString(acked, name):
	case containsString(c.stepNames(false), name):
		c.errorf(path, "step %q has no ack:; add ack: FIELD (the response's id field) to it", name)
	default:
		c.errorf(path, "unknown step %q%s; steps with ack: %s", name, didYouMean(name, acked), listOr(acked, "none"))
	}
}

func (c *checker) verifyTarget(name, path string) {
	if name == "" {
		c.errorf(path, "is required: the postgres target whose dsn the query runs on")
		return
	}
	t := c.knownTarget(path, name)
	switch {
	case t == nil:
	case t.Protocol != "postgres":
		c.errorf(path, "verify runs SQL, so it needs a postgres target; %q has protocol %s", name, or(t.Protocol, DefaultProtocol))
	case t.DSN == "":
		c.needsDSN(t.Name, "verify")
	}
}

// refs checks every ${targets.NAME} and ${stack.NAME} left for Resolve.
func (c *checker) refs() {
	c.e.eachRef(func(path string, pos Pos, t varToken, bad *SyntaxError) {
		if bad != nil {
			c.errorAt(pos, path, "%s", bad.Msg)
			return
		}
		section, name, ok := runtimeRef(t.Name)
		switch {
		case !ok:
			c.errorAt(pos, path, "%s is not resolved when the run starts; valid: ${targets.NAME}, ${stack.NAME}", t.Raw)
		case section == "targets":
			c.targetRef(pos, path, t, name)
		default:
			c.stackRef(pos, path, t, name)
		}
	})
}

func (c *checker) targetRef(pos Pos, path string, t varToken, ref string) {
	names := c.targetNames()
	name, index, badIndex := splitIndex(ref)
	switch {
	case badIndex:
		c.errorAt(pos, path, "%s: want a replica index from 0, e.g. ${targets.%s[0]}", t.Raw, name)
	case strings.HasPrefix(path, "targets."):
		c.errorAt(pos, path, "%s: a target cannot refer to a target (the proxies start together); "+
			"use ${stack.NAME} or an address", t.Raw)
	case !containsString(names, name):
		c.errorAt(pos, path, "unknown target %q in %s%s; valid targets: %s", name, t.Raw,
			didYouMean(name, names), listOr(names, "none (add a targets: section)"))
	default:
		c.targetIndex(pos, path, t, name, index)
	}
}

func (c *checker) stackRef(pos Pos, path string, t varToken, name string) {
	switch {
	case c.e.Stack == nil:
		c.errorAt(pos, path, "%s needs the demo stack; add stack: {name: demo}", t.Raw)
	default:
		if ok, valid := c.stackRefOK(name); !ok {
			c.errorAt(pos, path, "unknown stack address %q in %s%s; valid: %s", name, t.Raw,
				didYouMean(name, valid), listOr(valid, "none"))
		}
	}
}
