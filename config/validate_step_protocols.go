package config

import (
	"net/url"
	"strings"
	"time"

	"github.com/chaosload/chaosload/load"
)

// protocolStep checks the operation of a ws, pg or redis step. Addresses
// may name a target (${targets.NAME}), which then is the step's Target
// (bindStepTargets finds the first one in the step's strings, as for
// HTTP URLs); the target's protocol must carry the step's.
func (c *checker) protocolStep(st *load.Step, path string) {
	switch {
	case st.WS != nil:
		c.wsStep(st.WS, path+".ws")
	case st.PG != nil:
		c.pgStep(st.PG, path+".pg")
	case st.Redis != nil:
		c.redisStep(st.Redis, path+".redis")
	}
}

func (c *checker) wsStep(w *load.WSSession, path string) {
	if w.URL == "" {
		c.errorf(path+".url", "is required, e.g. url: \"ws://${targets.api}/ws/feed\"")
	} else if !validURL(w.URL, "ws", "wss") {
		c.errorf(path+".url", "want an absolute ws:// or wss:// URL such as ws://${targets.api}/ws/feed, got %q", w.URL)
	}
	c.targetCarries(path+".url", w.URL, "ws", "tcp", "http")
	c.nonNegative(path+".hold", w.Hold)
	c.nonNegative(path+".connectTimeout", w.ConnectTimeout)
	if s := w.Send; s != nil {
		c.wsSend(s, w.Hold, path+".send")
	}
	if e := w.Expect; e != nil {
		c.wsExpect(w, path+".expect")
	}
}

func (c *checker) wsSend(s *load.WSSend, hold time.Duration, path string) {
	switch {
	case s.Text != "" && s.JSON != nil:
		c.errorf(path, "text and json are both set; a message has one body")
	case s.Text == "" && s.JSON == nil:
		c.errorf(path, "want text or json, e.g. send: {text: ping} or send: {json: {type: ping}}")
	}
	switch {
	case s.Rate < 0:
		c.errorf(path+".rate", "must not be negative: messages per second (omit it to send once)")
	case s.Rate > 0 && hold <= 0:
		c.errorf(path+".rate", "messages are sent at a rate over the hold: set hold, e.g. hold: 30s")
	case s.Rate > 1e6:
		c.errorf(path+".rate", "%v messages/s on one connection is more than can be paced (at most 1e6)", s.Rate)
	}
}

func (c *checker) wsExpect(w *load.WSSession, path string) {
	e := w.Expect
	c.nonNegative(path+".timeout", e.Timeout)
	switch {
	case e.Text != "" && e.JSON != nil:
		c.errorf(path, "text and json are both set; a reply is matched one way")
	case e.Text == "" && e.JSON == nil:
		c.errorf(path, "want text or json, e.g. expect: {text: pong} or expect: {json: {field: seq}}")
	case e.JSON != nil && e.JSON.Field == "":
		c.errorf(path+".json.field", "is required: the path of the field that identifies a reply, e.g. seq or data.id")
	case e.JSON != nil && e.JSON.Equals == nil && w.Send != nil && w.Send.JSON == nil:
		c.errorf(path+".json", "without equals, replies are correlated by a number written into each message: send must be json")
	}
	if w.Send == nil {
		c.errorf(path, "a reply needs a message: add send")
	}
}

func (c *checker) pgStep(p *load.PGStatement, path string) {
	if p.DSN == "" {
		c.errorf(path+".dsn", "is required, e.g. dsn: \"postgres://shop@${targets.postgres}/shop\"")
	} else if strings.Contains(p.DSN, "://") && !validURL(p.DSN, "postgres", "postgresql") {
		c.errorf(path+".dsn", "want postgres://user@host:port/database (or key=value pairs), got %q", p.DSN)
	}
	c.targetCarries(path+".dsn", p.DSN, "pg", "postgres", "tcp")
	if (p.Query == "") == (p.Exec == "") {
		c.errorf(path, "want exactly one of query (returns rows) and exec (does not)")
	}
	c.nonNegative(path+".timeout", p.Timeout)
	if p.PoolSize < 0 {
		c.errorf(path+".poolSize", "must not be negative (default %d)", load.DefaultPoolSize)
	}
}

func (c *checker) redisStep(r *load.RedisCall, path string) {
	if r.Addr == "" {
		c.errorf(path+".addr", "is required, e.g. addr: \"${targets.redis}\"")
	} else if !strings.Contains(r.Addr, "${") && !validHostPort(r.Addr) {
		c.errorf(path+".addr", "want host:port with a port from 1 to 65535, e.g. 127.0.0.1:6379, got %q", r.Addr)
	}
	c.targetCarries(path+".addr", r.Addr, "redis", "redis", "tcp")
	switch {
	case len(r.Command) > 0 && len(r.Pipeline) > 0:
		c.errorf(path, "command and pipeline are both set; want one")
	case len(r.Command) == 0 && len(r.Pipeline) == 0:
		c.errorf(path, "want a command, e.g. command: [GET, \"product:1\"], or a pipeline of them")
	}
	for i, cmd := range r.Pipeline {
		if len(cmd) == 0 {
			c.errorf(path+".pipeline", "command %d is empty", i)
		}
	}
	if r.Repeat < 0 {
		c.errorf(path+".repeat", "must not be negative (default 1)")
	}
	if r.DB < 0 {
		c.errorf(path+".db", "must not be negative")
	}
	c.nonNegative(path+".timeout", r.Timeout)
	if r.PoolSize < 0 {
		c.errorf(path+".poolSize", "must not be negative (default %d)", load.DefaultPoolSize)
	}
}

// targetCarries reports an address naming a target whose protocol cannot
// carry the step's (a redis step through a postgres target, say).
func (c *checker) targetCarries(path, addr, step string, protocols ...string) {
	t := c.e.Target(firstTarget(addr))
	if t == nil {
		return
	}
	proto := t.Protocol
	if proto == "" {
		proto = DefaultProtocol
	}
	if !containsString(protocols, proto) {
		c.errorf(path, "goes through target %q, whose protocol is %s; a %s step needs a %s target",
			t.Name, proto, step, strings.Join(protocols, " or "))
	}
}

// validURL reports whether u, with its ${...} standing for a host, is an
// absolute URL of one of schemes.
func validURL(u string, schemes ...string) bool {
	s, err := rewrite(u, true, func(varToken, int) (string, error) { return "placeholder", nil })
	if err != nil {
		return false
	}
	parsed, err := url.Parse(s)
	return err == nil && containsString(schemes, parsed.Scheme) && parsed.Host != ""
}
