package demo

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestStackReplicas: with SetReplicas(2), StartService starts two service
// processes (its address lists both), StartBalancer puts haproxy in front
// of them, Processes names each (service, service[1], haproxy), Supervisor
// finds each replica's, and Close stops them all.
func TestStackReplicas(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st := NewStack(StackConfig{Logger: testLogger(t)})
	t.Cleanup(func() { _ = st.Close() })
	st.SetReplicas(2)
	api, err := st.StartService(ctx, "graceful", "127.0.0.1:1", "127.0.0.1:1")
	if err != nil {
		t.Fatalf("StartService: %v", err)
	}
	replicas := strings.Split(api, ",")
	if len(replicas) != 2 || replicas[0] == replicas[1] {
		t.Fatalf("StartService = %q, want two addresses", api)
	}
	lb, err := st.StartBalancer(ctx, replicas, "tcp")
	skipIfNoHAProxy(t, err)
	if err != nil {
		t.Fatalf("StartBalancer: %v", err)
	}
	a := st.Addrs()
	if a.API != api || a.LB != lb || a.Map()["lb"] != lb {
		t.Errorf("Addrs() = %+v, want api %s, lb %s", a, api, lb)
	}
	procs := st.Processes()
	roles := make([]string, 0, len(procs))
	for role := range procs {
		roles = append(roles, role)
	}
	slices.Sort(roles)
	if want := []string{"haproxy", "service", "service[1]"}; !slices.Equal(roles, want) {
		t.Fatalf("Processes() roles %v, want %v", roles, want)
	}
	for _, role := range []string{"service", "service[1]"} {
		if sup := st.Supervisor(role); sup == nil || sup.PID() != procs[role] {
			t.Errorf("Supervisor(%q) does not run pid %d", role, procs[role])
		}
	}
	stats, err := st.BalancerStats(ctx)
	if err != nil || len(stats.Servers) != 2 || stats.Servers[1].Addr != replicas[1] {
		t.Fatalf("BalancerStats = %+v, %v; want 2 servers, r1 at %s", stats, err, replicas[1])
	}
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, pid := range procs {
		processGone(t, pid)
	}
}

// skipIfNoHAProxy skips the test when haproxy is not installed.
func skipIfNoHAProxy(t *testing.T, err error) {
	t.Helper()
	if errors.Is(err, ErrHAProxyNotInstalled) {
		t.Skipf("skipping: %v", err)
	}
}
