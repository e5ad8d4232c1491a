package faults

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// refuseAll is an Injector that fails the test if Bind's action reaches it.
type refuseAll struct{ t *testing.T }

func (r refuseAll) Inject(context.Context, string, Spec, float64) (Revert, error) {
	r.t.Error("Inject reached for a fault Bind should have refused")
	return func(context.Context) error { return nil }, nil
}

func (r refuseAll) Watch(string, Spec, ConnWatch) (Revert, error) {
	r.t.Error("Watch reached for a fault Bind should have refused")
	return func(context.Context) error { return nil }, nil
}

// TestBindRefuses shows that Bind returns an error, and never panics, for
// what it cannot bind.
func TestBindRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		f    Fault
		want string
	}{
		// an unknown kind (Spec would panic on it) names the valid ones.
		{"unknown kind", Fault{Name: "m", Target: "api", Kind: "meteor"}, `unknown fault kind "meteor"; valid kinds: latency, bandwidth`},
		// an empty kind too.
		{"no kind", Fault{Name: "e", Target: "api"}, `unknown fault kind ""`},
		// a spec CheckSpec refuses never reaches the proxy.
		{"loss above 50%", Fault{Name: "l", Target: "api", Kind: Loss, Rate: Rate{Share: 0.6}}, "rate: must be at most 50%"},
		// pool exhaustion's values are checked too (it has no proxy to do it).
		{"negative leaveFree", Fault{Name: "p", Target: "pg", Kind: PoolExhaustion, LeaveFree: -1}, "leaveFree: must not be negative"},
	}
	for _, tc := range tests {
		a, err := Bind(&tc.f, TargetInfo{Name: tc.f.Target, Protocol: "postgres", DSN: "postgres://x@127.0.0.1:1/db", Proxy: refuseAll{t}}, zerolog.Nop())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Bind = %v, %v; want an error with %q", tc.name, a, err, tc.want)
		}
	}
	// a valid fault still binds.
	f := Fault{Name: "ok", Target: "api", Kind: Latency, Latency: time.Millisecond}
	if _, err := Bind(&f, TargetInfo{Name: "api", Proxy: refuseAll{t}}, zerolog.Nop()); err != nil {
		t.Errorf("valid latency: %v", err)
	}
}
