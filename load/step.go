package load

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"time"

	"github.com/chaosload/chaosload/bytesize"
)

// Protocol names what a step speaks; each has one Driver.
type Protocol string

// The protocols.
const (
	HTTP Protocol = "http"
	// WS is WebSocket (package load/wsload).
	WS Protocol = "ws"
	// PG is PostgreSQL (package load/pgload).
	PG Protocol = "pg"
	// Redis is Redis (package load/redisload).
	Redis Protocol = "redis"
)

// Step is one operation of an iteration, followed by an optional think time.
// Exactly one protocol field is set.
type Step struct {
	Name string       `yaml:"name"`
	HTTP *HTTPRequest `yaml:"http"`
	// WS, PG and Redis are the operations of the other protocols (see
	// step_protocols.go).
	WS    *WSSession   `yaml:"ws"`
	PG    *PGStatement `yaml:"pg"`
	Redis *RedisCall   `yaml:"redis"`
	// Think is the pause after the step, before the next one.
	Think Think `yaml:"think"`
	// Ack names the field of the JSON response that holds the id of an
	// acknowledged write; the id is checked after the run (`verify:`).
	Ack string `yaml:"ack"`
	// Extract takes values from the step's response into VU variables that
	// later steps (and later iterations of the VU) read as ${vu.NAME}.
	// Written as a mapping: extract: {token: {json: data.token}}.
	Extract []Extract `yaml:"extract"`
	// extractors are Extract compiled by New (see extract.go).
	extractors []extractor
	// Target is the experiment target (proxy) the step goes through, set
	// when its address names one (${targets.NAME}); "" otherwise.
	Target string `yaml:"-"`
}

// Protocol returns the protocol of the step, "" when none is set.
func (s *Step) Protocol() Protocol {
	switch {
	case s.HTTP != nil:
		return HTTP
	case s.WS != nil:
		return WS
	case s.PG != nil:
		return PG
	case s.Redis != nil:
		return Redis
	}
	return ""
}

// HTTPRequest is the operation of an `http:` step.
type HTTPRequest struct {
	Method  string            `yaml:"method"`
	URL     string            `yaml:"url"`
	Headers map[string]string `yaml:"headers"`
	// JSON is encoded as the body, with Content-Type application/json.
	JSON any `yaml:"json"`
	// Body is sent as is. At most one of JSON, Body, BodyFile and BodySize
	// is set. URL, header values, Body and the strings of JSON are
	// templates: ${vu.NAME}, ${vu.id}, ${iteration}, ${data.COLUMN},
	// ${random.uuid}, ${random.int(A,B)} are filled in per request (see
	// Template).
	Body string `yaml:"body"`
	// BodyFile is a file streamed as the body of every request, never held
	// in memory whole; not a template.
	BodyFile string `yaml:"bodyFile"`
	// BodySize generates a body of this many bytes, streamed (a repeated
	// pattern), for bulk uploads: bodySize: 100MB.
	BodySize bytesize.Size `yaml:"bodySize"`
	// Timeout bounds the whole request (default 10s).
	Timeout time.Duration `yaml:"timeout"`
	// Expect lists what counts as success; without it, any status below
	// 400 does.
	Expect *HTTPExpect `yaml:"expect"`
	// NewConnection dials a connection for each iteration instead of
	// reusing a pooled one: every newConnection step of one iteration of a
	// VU shares it, and it is closed when the iteration ends. This is how a
	// scenario establishes connections at a rate (conn_rate).
	NewConnection bool `yaml:"newConnection"`
}

// HTTPExpect is what an HTTP step expects of its response.
type HTTPExpect struct {
	// Status lists the statuses that count as success. A status outside
	// it is an error: of its usual class from 400 on (http_4xx, http_429, http_503,
	// http_5xx), so a 5xx the step did not expect is still a 5xx; below
	// 400, of class http_unexpected.
	Status []int `yaml:"status"`
}

// DefaultHTTPTimeout bounds a request whose step sets no timeout.
const DefaultHTTPTimeout = 10 * time.Second

// Think is a pause: fixed ("100ms") or uniform between two bounds
// ("uniform(100ms, 300ms)"). The zero value is no pause.
type Think struct {
	Min, Max time.Duration
}

var uniformRE = regexp.MustCompile(`^uniform\(\s*([^,\s]+)\s*,\s*([^)\s]+)\s*\)$`)

// UnmarshalText implements encoding.TextUnmarshaler.
func (t *Think) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if m := uniformRE.FindStringSubmatch(s); m != nil {
		lo, err1 := time.ParseDuration(m[1])
		hi, err2 := time.ParseDuration(m[2])
		if err1 != nil || err2 != nil || lo < 0 || hi < lo {
			return fmt.Errorf("%q: want uniform(MIN, MAX) with durations, MIN <= MAX", s)
		}
		*t = Think{lo, hi}
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return fmt.Errorf("%q is not a think time (e.g. 100ms or uniform(100ms, 300ms))", s)
	}
	*t = Think{d, d}
	return nil
}

// Draw returns one pause from r.
func (t Think) Draw(r *rand.Rand) time.Duration {
	if t.Max <= t.Min {
		return t.Min
	}
	return t.Min + time.Duration(r.Int64N(int64(t.Max-t.Min)+1))
}

// String renders the think time as written in a file.
func (t Think) String() string {
	if t.Min == t.Max {
		return t.Min.String()
	}
	return fmt.Sprintf("uniform(%s, %s)", t.Min, t.Max)
}
