package faults

import (
	"fmt"
	"net/http"
	"path"
	"regexp"
	"strings"
	"time"
)

// The protocol-aware kinds act on single requests of a target's protocol,
// not on its TCP stream: the proxy parses HTTP/1.x, the PostgreSQL wire
// protocol or RESP and answers (or delays) the requests that match, drawn
// per request with Probability from the seed.
const (
	HTTPError  Kind = "http-error"
	HTTPDelay  Kind = "http-delay"
	PGError    Kind = "pg-error"
	PGDelay    Kind = "pg-delay"
	RedisError Kind = "redis-error"
	RedisDelay Kind = "redis-delay"
)

// ProtocolKinds maps each protocol-aware kind to the target protocol it
// needs.
var ProtocolKinds = map[Kind]string{
	HTTPError: "http", HTTPDelay: "http",
	PGError: "postgres", PGDelay: "postgres",
	RedisError: "redis", RedisDelay: "redis",
}

// Match selects the requests a protocol-aware fault acts on. Unset fields
// match everything. Method, Path and Header are HTTP's; SQL is PostgreSQL's;
// Command and Key are Redis's.
type Match struct {
	// Method is an HTTP method (GET), compared case-insensitively.
	Method string `yaml:"method"`
	// Path is a glob (/orders/*, path.Match syntax) or, written between
	// slashes, a regular expression (/^\/orders\/\d+$/) on the request path
	// without its query.
	Path string `yaml:"path"`
	// Header maps header names to values the request must carry; a value
	// "*" only asks for the header to be present.
	Header map[string]string `yaml:"header"`
	// SQL is a regular expression searched in the query text (simple
	// protocol) or the prepared statement's text (extended protocol).
	SQL string `yaml:"sql"`
	// Command is a Redis command name (GET), compared case-insensitively.
	Command string `yaml:"command"`
	// Key is a glob on the command's first argument.
	Key string `yaml:"key"`
}

// The defaults of the protocol-aware kinds.
const (
	DefaultHTTPStatus = http.StatusServiceUnavailable
	DefaultSQLState   = "40001"
	DefaultRedisError = "ERR injected by chaosload"
)

// HTTPErrorSpec answers a Probability share of matching HTTP requests with
// Status, Headers and Body, without passing them to the upstream.
type HTTPErrorSpec struct {
	Match       Match
	Probability float64
	Status      int
	Headers     map[string]string
	Body        string
}

// PGErrorSpec answers a Probability share of matching queries with an
// ErrorResponse carrying SQLState and Message, followed by ReadyForQuery.
type PGErrorSpec struct {
	Match       Match
	Probability float64
	SQLState    string
	Message     string
}

// RedisErrorSpec answers a Probability share of matching commands with the
// error reply "-" + Message (its first word is the error code: ERR,
// LOADING, BUSY, READONLY, ...).
type RedisErrorSpec struct {
	Match       Match
	Probability float64
	Message     string
}

// RequestDelaySpec holds a Probability share of matching requests of
// Protocol (http, postgres or redis) for Latency ± a uniform Jitter before
// passing them on; what follows them on the connection waits too, so order
// is kept. For http, Direction says what is held: the request before it
// reaches the server (upstream, the default), its response before it
// reaches the client (downstream), or both (each for its own draw of the
// delay); postgres and redis delays are always upstream.
type RequestDelaySpec struct {
	Protocol    string
	Match       Match
	Probability float64
	Latency     time.Duration
	Jitter      time.Duration
	Direction   Direction
}

// Holds reports whether the delay holds what goes in direction d
// (Upstream or Downstream).
func (s RequestDelaySpec) Holds(d Direction) bool {
	return or(s.Direction, Upstream) == d || s.Direction == Both
}

// Kind implements Spec.
func (HTTPErrorSpec) Kind() Kind { return HTTPError }

// Kind implements Spec.
func (PGErrorSpec) Kind() Kind { return PGError }

// Kind implements Spec.
func (RedisErrorSpec) Kind() Kind { return RedisError }

// Kind implements Spec.
func (s RequestDelaySpec) Kind() Kind {
	switch s.Protocol {
	case "postgres":
		return PGDelay
	case "redis":
		return RedisDelay
	}
	return HTTPDelay
}

// protocolSpec returns the typed spec of a protocol-aware kind, false for
// any other kind.
func (f *Fault) protocolSpec() (Spec, bool) {
	var m Match
	if f.Match != nil {
		m = *f.Match
	}
	p := 1.0
	if f.Probability != nil {
		p = float64(*f.Probability)
	}
	switch f.Kind {
	case HTTPError:
		return HTTPErrorSpec{Match: m, Probability: p, Status: or(f.Status, DefaultHTTPStatus), Headers: f.Headers, Body: f.Body}, true
	case PGError:
		return PGErrorSpec{Match: m, Probability: p, SQLState: or(f.Code, DefaultSQLState),
			Message: or(f.Message, "chaosload: injected error "+or(f.Code, DefaultSQLState))}, true
	case RedisError:
		return RedisErrorSpec{Match: m, Probability: p, Message: or(f.Message, DefaultRedisError)}, true
	case HTTPDelay, PGDelay, RedisDelay:
		return RequestDelaySpec{Protocol: ProtocolKinds[f.Kind], Match: m, Probability: p, Latency: f.Latency, Jitter: f.Jitter,
			Direction: f.dir(Upstream)}, true
	}
	return nil, false
}

// MatchPath reports whether an HTTP path matches pattern: a glob, or a
// regular expression between slashes. An invalid pattern matches nothing.
func MatchPath(pattern, p string) bool {
	if re, ok := pathRegexp(pattern); ok {
		return re != nil && re.MatchString(p)
	}
	ok, err := path.Match(pattern, p)
	return err == nil && ok
}

// pathRegexp compiles a pattern written /like this/; ok is false for a glob.
func pathRegexp(pattern string) (re *regexp.Regexp, ok bool) {
	if len(pattern) < 2 || !strings.HasPrefix(pattern, "/") || !strings.HasSuffix(pattern, "/") ||
		!strings.ContainsAny(pattern, `^$\()[]+|{}.?`) {
		return nil, false
	}
	re, _ = regexp.Compile(pattern[1 : len(pattern)-1])
	return re, true
}

// protocol adds the problems of a protocol-aware spec; nothing for any
// other kind.
func (ps *problems) protocol(s Spec) {
	switch s := s.(type) {
	case HTTPErrorSpec:
		ps.selection(s.Match, s.Probability, HTTPError)
		ps.add(s.Status < 100 || s.Status > 599, "status", "must be an HTTP status between 100 and 599")
	case PGErrorSpec:
		ps.selection(s.Match, s.Probability, PGError)
		ps.add(!sqlState.MatchString(s.SQLState), "code",
			fmt.Sprintf("%q is not a SQLSTATE: five digits or capital letters, e.g. 40001, 57014, 53300", s.SQLState))
	case RedisErrorSpec:
		ps.selection(s.Match, s.Probability, RedisError)
		ps.add(!redisError.MatchString(s.Message), "message",
			"must start with an error code in capitals and hold no line break, e.g. \"LOADING Redis is loading the dataset in memory\"")
	case RequestDelaySpec:
		ps.requestDelay(s)
	}
}

func (ps *problems) requestDelay(s RequestDelaySpec) {
	switch s.Protocol {
	case "http", "postgres", "redis":
	default:
		ps.add(true, "protocol", "must be http, postgres or redis")
		return
	}
	ps.selection(s.Match, s.Probability, s.Kind())
	ps.positiveWait("latency", s.Latency, "100ms")
	ps.jitter("jitter", s.Jitter, s.Latency, "latency")
	switch {
	case s.Direction == "" || s.Direction == Upstream:
	case s.Protocol != "http":
		ps.add(true, "direction", "a "+s.Protocol+" delay holds requests (upstream) only")
	case s.Direction != Downstream && s.Direction != Both:
		ps.add(true, "direction", "must be upstream (hold matching requests, the default), downstream (hold their responses) or both")
	}
}

// selection checks which requests a protocol-aware fault of kind k acts
// on: its match and the share p of them.
func (ps *problems) selection(m Match, p float64, k Kind) {
	ps.add(!isShare(p), "probability", "must be between 0% and 100%")
	ps.match(m, k)
}

var (
	sqlState   = regexp.MustCompile(`^[0-9A-Z]{5}$`)
	redisError = regexp.MustCompile(`^[A-Z][A-Z0-9_-]*( [^\r\n]*)?$`)
)

// match checks that only the match keys of kind k's protocol are set and
// that the patterns compile.
func (ps *problems) match(m Match, k Kind) {
	proto := ProtocolKinds[k]
	foreign := map[string]bool{
		"match.method": m.Method != "" && proto != "http", "match.path": m.Path != "" && proto != "http",
		"match.header": len(m.Header) > 0 && proto != "http", "match.sql": m.SQL != "" && proto != "postgres",
		"match.command": m.Command != "" && proto != "redis", "match.key": m.Key != "" && proto != "redis",
	}
	for _, key := range []string{"match.method", "match.path", "match.header", "match.sql", "match.command", "match.key"} {
		ps.add(foreign[key], key, fmt.Sprintf("does not apply to %s (a %s fault); its match keys: %s", k, proto, matchKeys[proto]))
	}
	if m.SQL != "" {
		_, err := regexp.Compile(m.SQL)
		ps.add(err != nil, "match.sql", fmt.Sprintf("is not a regular expression: %v", err))
	}
	if m.Path != "" {
		if re, ok := pathRegexp(m.Path); ok {
			ps.add(re == nil, "match.path", "is not a regular expression (written between slashes)")
		} else {
			_, err := path.Match(m.Path, "/")
			ps.add(err != nil, "match.path", "is not a glob (e.g. /orders/*)")
		}
	}
	if m.Key != "" {
		_, err := path.Match(m.Key, "")
		ps.add(err != nil, "match.key", "is not a glob (e.g. user:*)")
	}
}

var matchKeys = map[string]string{"http": "method, path, header", "postgres": "sql", "redis": "command, key"}
