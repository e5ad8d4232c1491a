package runner

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/chaosload/chaosload/balancer"
)

// ReplicaStack is a Stack whose service runs as several replicas behind a
// load balancer (`stack: {replicas: 3}`); demo.Stack is one.
type ReplicaStack interface {
	// SetReplicas sets how many service processes StartServices starts.
	SetReplicas(n int)
	// StartServices starts the replicas against the given addresses and
	// returns theirs, replica 0 first.
	StartServices(ctx context.Context, mode, postgres, redis string) ([]string, error)
	// StartBalancer starts the balancer in front of backends with the
	// health check named, and returns its frontend's address.
	StartBalancer(ctx context.Context, backends []string, check string) (string, error)
	// BalancerStats returns the balancer's counters per server and the
	// state changes it logged.
	BalancerStats(ctx context.Context) (balancer.Stats, error)
}

// BalancerInfo is the load balancer in front of the demo's replicas, as it
// saw the run: its own counters per server when the run ended, and the
// servers' state changes it logged.
type BalancerInfo struct {
	// Addr is its frontend (${stack.lb}); Check its health check.
	Addr  string `json:"addr"`
	Check string `json:"check"`
	// Servers are its servers, in replica order: Replica is the replica's
	// address, Addr the one the balancer sends to (the proxy in front of
	// the replica, or the replica itself).
	Servers []BalancerServer `json:"servers"`
	// Events are the state changes it logged, on the load's clock.
	Events []BalancerEvent `json:"events,omitempty"`
	// Error says why its counters could not be read, if they could not.
	Error string `json:"error,omitempty"`
}

// BalancerServer is one server of the balancer with its final counters.
type BalancerServer struct {
	Replica string `json:"replica"`
	balancer.Server
}

// BalancerEvent is one state change of a server: AtS seconds from the
// start of the load (negative before it), Server the balancer's name,
// Replica its index.
type BalancerEvent struct {
	AtS     float64 `json:"at_s"`
	Server  string  `json:"server"`
	Replica int     `json:"replica"`
	State   string  `json:"state"`
	Reason  string  `json:"reason,omitempty"`
}

// startBalancer starts the balancer in front of the demo's replicas, each
// reached through the proxy whose upstream it is (or directly), once those
// proxies forward: after startService and the proxies that run early.
// ${stack.lb} is its frontend.
func (r *run) startBalancer(ctx context.Context) error {
	rs, ok := r.stack.(ReplicaStack)
	if !ok || r.exp.Stack.Replicas == 0 {
		return nil
	}
	check := r.exp.Stack.Balancer.Check
	if check == "" {
		check = balancer.Checks[0]
	}
	info := &BalancerInfo{Check: check}
	var backends []string
	for _, a := range r.out.Stack.Replicas {
		b := r.viaProxy(a)
		backends = append(backends, b)
		info.Servers = append(info.Servers, BalancerServer{Replica: a, Server: balancer.Server{Addr: b}})
	}
	addr, err := rs.StartBalancer(ctx, backends, check)
	if err != nil {
		return infra("stack %q: start balancer: %w", r.exp.Stack.Name, err)
	}
	info.Addr = addr
	r.vars["stack.lb"] = addr
	r.out.Stack.Balancer = info
	r.addStackPIDs()
	r.stackEvent()
	return nil
}

// recordBalancer puts the balancer's final counters and its state changes
// into the outcome; called before the stack stops.
func (r *run) recordBalancer() {
	rs, ok := r.stack.(ReplicaStack)
	if !ok || r.out.Stack == nil || r.out.Stack.Balancer == nil {
		return
	}
	info := r.out.Stack.Balancer
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := rs.BalancerStats(ctx)
	if err != nil {
		info.Error = err.Error()
		return
	}
	index := map[string]int{}
	for i, s := range st.Servers {
		if i < len(info.Servers) {
			info.Servers[i].Server = s
		}
		index[s.Name] = i
	}
	for _, e := range st.Events {
		info.Events = append(info.Events, BalancerEvent{
			AtS: seconds(r.offset(e.At)), Server: e.Server, Replica: index[e.Server], State: e.State, Reason: e.Reason,
		})
	}
}

// startReplicas starts the stack's service as replicas: ${stack.api} is
// their addresses joined by commas, ${stack.api[i]} replica i's.
func (r *run) startReplicas(ctx context.Context, rs ReplicaStack, pg, rd string) (string, error) {
	addrs, err := rs.StartServices(ctx, r.exp.Stack.Mode, pg, rd)
	if err != nil {
		return "", err
	}
	for i, a := range addrs {
		r.vars[fmt.Sprintf("stack.api[%d]", i)] = a
	}
	r.out.Stack.Replicas = addrs
	return strings.Join(addrs, ","), nil
}
