package demo

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/chaosload/chaosload/balancer"
	"github.com/rs/zerolog"
)

// HAProxyConfig configures StartHAProxy. Backends is required; the zero
// value of every other field is its documented default.
type HAProxyConfig struct {
	// Backends are the servers' addresses (host:port), named r0, r1, ...
	// in this order.
	Backends []string
	// Check is the health check: "http" (default; GET CheckPath answering
	// 2xx), "tcp" (a connection accepted) or "none" (never taken out).
	Check string
	// CheckPath is the http check's path. Default "/healthz".
	CheckPath string
	// Interval is the time between two checks of a server (default
	// 500 ms); CheckTimeout bounds one check (default 800 ms: a stall of
	// a loaded machine is not a failure, a replica 1 s late is).
	Interval     time.Duration
	CheckTimeout time.Duration
	// Fall is how many failed checks in a row take a server out of
	// rotation, Rise how many passed ones bring it back. Default 2 each.
	Fall, Rise int
	// Bin is the haproxy binary. Default: haproxy on PATH, else
	// /usr/sbin/haproxy.
	Bin string
	// TempDir is where its directory (configuration, stats socket, log
	// socket, output) is made. Default os.TempDir().
	TempDir string
	// StartTimeout bounds the start. Default 10 s.
	StartTimeout time.Duration
	// Logger receives lifecycle events. The zero value logs nothing.
	Logger zerolog.Logger
}

func (c HAProxyConfig) withDefaults() (HAProxyConfig, error) {
	if len(c.Backends) == 0 {
		return c, fmt.Errorf("no backends")
	}
	if c.Check == "" {
		c.Check = balancer.Checks[0]
	}
	if !slices.Contains(balancer.Checks, c.Check) {
		return c, fmt.Errorf("unknown check %q; valid: %s", c.Check, strings.Join(balancer.Checks, ", "))
	}
	if c.CheckPath == "" {
		c.CheckPath = "/healthz"
	}
	if c.Interval == 0 {
		c.Interval = 500 * time.Millisecond
	}
	if c.CheckTimeout == 0 {
		c.CheckTimeout = 800 * time.Millisecond
	}
	if c.Fall == 0 {
		c.Fall = 2
	}
	if c.Rise == 0 {
		c.Rise = 2
	}
	if c.StartTimeout == 0 {
		c.StartTimeout = 10 * time.Second
	}
	return c, nil
}

// haproxyBackend is the name of the backend holding the servers.
const haproxyBackend = "replicas"

// serverName is the balancer's name of the i-th backend.
func serverName(i int) string { return fmt.Sprintf("r%d", i) }

// render writes haproxy's configuration: an HTTP frontend on port, a
// round-robin backend of c.Backends with c's health checks (a request whose
// connection was refused goes to another server), the stats
// socket and the log socket (whose lines carry the servers' state changes;
// the frontend logs nothing).
func (c HAProxyConfig) render(port int, statsSock, logSock string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "global\n    stats socket %s mode 600 level admin\n", statsSock)
	fmt.Fprintf(&b, "    log %s len 4096 format raw local0 info\n", logSock)
	b.WriteString("    maxconn 4096\n\ndefaults\n    mode http\n    option http-keep-alive\n")
	// a connection refused is tried again on another server (the request
	// was not sent, so never twice)
	b.WriteString("    retries 2\n    option redispatch 1\n")
	fmt.Fprintf(&b, "    timeout connect 2s\n    timeout client 60s\n    timeout server 60s\n    timeout check %dms\n\n",
		c.CheckTimeout.Milliseconds())
	fmt.Fprintf(&b, "frontend api\n    bind 127.0.0.1:%d\n    default_backend %s\n\n", port, haproxyBackend)
	fmt.Fprintf(&b, "backend %s\n    log global\n    balance roundrobin\n", haproxyBackend)
	check := ""
	switch c.Check {
	case "http":
		fmt.Fprintf(&b, "    option httpchk\n    http-check send meth GET uri %s ver HTTP/1.1 hdr Host localhost hdr User-Agent %s\n",
			c.CheckPath, balancer.CheckUserAgent)
		b.WriteString("    http-check expect rstatus ^2\n")
		check = " check"
	case "tcp":
		check = " check"
	}
	fmt.Fprintf(&b, "    default-server inter %dms fall %d rise %d\n", c.Interval.Milliseconds(), c.Fall, c.Rise)
	for i, a := range c.Backends {
		fmt.Fprintf(&b, "    server %s %s%s\n", serverName(i), a, check)
	}
	return b.String()
}
