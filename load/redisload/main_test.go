package redisload_test

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/chaosload/chaosload/demo"
	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/load/redisload"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// startRedis starts a redis-server from package demo (imported by this
// external test package only: the driver never imports demo), stopped at
// cleanup; it skips the test when redis-server is not installed.
func startRedis(tb testing.TB) *demo.Redis {
	tb.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		tb.Skip("skipping: redis-server not installed (apt-get install -y redis-server, or make deps)")
	}
	r, err := demo.StartRedis(context.Background(), demo.RedisConfig{})
	if err != nil {
		tb.Fatalf("start redis: %v", err)
	}
	tb.Cleanup(func() {
		if err := r.Close(); err != nil {
			tb.Errorf("stop redis: %v", err)
		}
	})
	return r
}

// newDriver returns a Driver closed when the test ends.
func newDriver(tb testing.TB) *redisload.Driver {
	tb.Helper()
	d := redisload.New(redisload.Config{})
	tb.Cleanup(d.Close)
	return d
}

// newVU returns a VU of scenario sc on a clock starting now.
func newVU(sc *load.Scenario) *load.VU {
	return &load.VU{ID: 1, Scenario: sc, Clock: load.Clock{Epoch: time.Now()}, State: map[any]any{}}
}

// do runs step once on vu as an executor would and returns the result.
func do(d *redisload.Driver, vu *load.VU, step *load.Step) load.Result {
	res := load.Result{Step: step.Name, Protocol: load.Redis, Intended: vu.Clock.Now(), Start: -1, End: -1}
	res.Dispatched = res.Intended
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d.Do(ctx, vu, step, &res)
	return res
}

// cmd is a one-command redis step to addr.
func cmd(addr string, args ...any) *load.Step {
	return &load.Step{Name: "cmd", Redis: &load.RedisCall{Addr: addr, Command: args}}
}
