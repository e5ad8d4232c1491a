package demo

import (
	"context"
	"errors"
	"fmt"

	"github.com/chaosload/chaosload/balancer"
)

// SetReplicas makes the next StartService start n service processes
// (`stack: {replicas: 3}`), each on a port of its own, all wired to the
// same PostgreSQL and Redis; call it before StartBackends, which gives
// PostgreSQL room for every replica's pool (unless
// StackConfig.Postgres.MaxConnections is set).
func (st *Stack) SetReplicas(n int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.replicas = n
}

// replicaMaxConnections is PostgreSQL's max_connections for n replicas:
// each replica's pool (gracefulPoolSize) with the room one service has
// beside its pool by default (20 - 3 reserved - 8), so that the replicas
// do not take each other's connections: 20 for one, 36 for three.
func replicaMaxConnections(n int) int {
	return 20 + (n-1)*gracefulPoolSize
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
