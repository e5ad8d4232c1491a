// Package balancer holds a load balancer's own view of the servers behind
// it: each server's counters and the state changes the balancer logged. The
// demo stack reads them from haproxy; the runner records them in the
// Outcome, to compare with what chaosload measured per replica. A leaf.
package balancer

import "time"

// Checks lists the balancer's health checks (`balancer: {check: http}`):
// http (GET of the health path answering 2xx), tcp (a connection accepted)
// and none (never taken out of rotation). The first is the default.
var Checks = []string{"http", "tcp", "none"}

// CheckUserAgent is the User-Agent of the balancer's http health checks.
// They pass through the proxy in front of each replica (so a fault there
// fails them), and a per-replica count of the load's work leaves them out
// by this header.
const CheckUserAgent = "chaosload-balancer-check"

// Stats is the balancer's view at one moment.
type Stats struct {
	// Servers are the balancer's servers, in the order they were given.
	Servers []Server `json:"servers"`
	// Events are the state changes the balancer logged, in order.
	Events []Event `json:"events,omitempty"`
}

// Server is one server's counters, as the balancer counts them.
type Server struct {
	// Name is the balancer's name for it (r0, r1, ...); Addr the address
	// it sends to.
	Name string `json:"name"`
	Addr string `json:"addr"`
	// Status is its state (UP, DOWN, "no check" without health checks).
	Status string `json:"status"`
	// Sessions counts the streams sent to it (haproxy's stot); Requests
	// the HTTP requests (req_tot).
	Sessions int64 `json:"sessions"`
	Requests int64 `json:"requests"`
	// Responses counts its responses by class: 1xx .. 5xx, other.
	Responses map[string]int64 `json:"responses,omitempty"`
	// CheckStatus is its last health check's result (L7OK, L4CON, ...).
	CheckStatus string `json:"check_status,omitempty"`
	// LastChange is how long ago its state last changed; Downtime the
	// time it has spent DOWN in all.
	LastChange time.Duration `json:"last_change_ns"`
	Downtime   time.Duration `json:"downtime_ns"`
}

// Event is one state change of a server the balancer logged.
type Event struct {
	// At is when the line was read, on this process's clock.
	At time.Time `json:"at"`
	// Server is the balancer's name for it, State UP or DOWN, Reason the
	// rest of the line ("Layer4 connection problem ...").
	Server string `json:"server"`
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
}
