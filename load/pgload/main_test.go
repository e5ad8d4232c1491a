package pgload_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/chaosload/chaosload/demo"
	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/load/pgload"
)

// The driver's tests run against real PostgreSQL clusters from package
// demo (imported by this external test package only: the driver never
// imports demo). One cluster serves every test that does not need its own.
var shared struct {
	once sync.Once
	pg   *demo.Postgres
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.pg != nil {
		if err := shared.pg.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "stop shared postgres:", err)
			code = 1
		}
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goroutine leak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// sharedPostgres returns the shared cluster, skipping the test when the
// PostgreSQL binaries are not installed.
func sharedPostgres(tb testing.TB) *demo.Postgres {
	tb.Helper()
	shared.once.Do(func() {
		shared.pg, shared.err = demo.StartPostgres(context.Background(), demo.PostgresConfig{Logger: zerolog.Nop()})
	})
	skipIfMissing(tb, shared.err)
	if shared.err != nil {
		tb.Fatalf("start shared postgres: %v", shared.err)
	}
	return shared.pg
}

// startPostgres starts a cluster of the test's own, stopped at cleanup.
func startPostgres(tb testing.TB, cfg demo.PostgresConfig) *demo.Postgres {
	tb.Helper()
	pg, err := demo.StartPostgres(context.Background(), cfg)
	skipIfMissing(tb, err)
	if err != nil {
		tb.Fatalf("start postgres: %v", err)
	}
	tb.Cleanup(func() {
		if err := pg.Close(); err != nil {
			tb.Errorf("stop postgres: %v", err)
		}
	})
	return pg
}

func skipIfMissing(tb testing.TB, err error) {
	tb.Helper()
	if errors.Is(err, demo.ErrPostgresNotInstalled) {
		tb.Skipf("skipping: %v", err)
	}
}

// shopDSN is the shop role's DSN on pg.
func shopDSN(pg *demo.Postgres) string { return pg.DSN(demo.ShopRole, demo.ShopDatabase) }

// newDriver returns a Driver closed when the test ends.
func newDriver(tb testing.TB) *pgload.Driver {
	tb.Helper()
	d := pgload.New(pgload.Config{})
	tb.Cleanup(d.Close)
	return d
}

// newVU returns a VU of scenario sc on a clock starting now.
func newVU(sc *load.Scenario) *load.VU {
	return &load.VU{ID: 1, Scenario: sc, Clock: load.Clock{Epoch: time.Now()}, State: map[any]any{}}
}

// do runs step once on vu as an executor would and returns the result.
func do(d *pgload.Driver, vu *load.VU, step *load.Step) load.Result {
	res := load.Result{Step: step.Name, Protocol: load.PG, Intended: vu.Clock.Now(), Start: -1, End: -1}
	res.Dispatched = res.Intended
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d.Do(ctx, vu, step, &res)
	return res
}

// pgStep is a pg step.
func pgStep(name string, st load.PGStatement) *load.Step {
	return &load.Step{Name: name, PG: &st}
}
