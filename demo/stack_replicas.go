package demo

import (
	"context"
	"errors"
	"fmt"

	"github.com/chaosload/chaosload/balancer"
)

// SetReplicas makes the next StartService start n service processes
// (`stack: {replicas: 3}`), each on a port of its own, all wired to the
// same PostgreSQL and Redis.
func (st *Stack) SetReplicas(n int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.replicas = n
}

// StartBalancer starts haproxy in front of backends (the replicas, or the
// proxies in front of them) with the health check named ("http", "tcp",
// "none"; "" is http), and returns its frontend's address once it answers.
func (st *Stack) StartBalancer(ctx context.Context, backends []string, check string) (string, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.lb != nil {
		return "", errors.New("start balancer: already running")
	}
	lb, err := StartHAProxy(ctx, HAProxyConfig{Backends: backends, Check: check, Logger: st.cfg.Logger})
	if err != nil {
		return "", err
	}
	st.lb = lb
	return lb.Addr(), nil
}

// Balancer is the haproxy in front of the replicas, nil before
// StartBalancer.
func (st *Stack) Balancer() *HAProxy {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.lb
}

// BalancerStats returns haproxy's counters per server and the state
// changes it logged so far.
func (st *Stack) BalancerStats(ctx context.Context) (balancer.Stats, error) {
	lb := st.Balancer()
	if lb == nil {
		return balancer.Stats{}, fmt.Errorf("balancer stats: no balancer running")
	}
	return lb.Stats(ctx)
}
