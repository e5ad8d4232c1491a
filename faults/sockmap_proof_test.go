package faults_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/proxy"
)

// TestProofPGErrorOnTheSockmapFastPath: four pgx connections through a
// proxy on the sockmap fast path. Three of them run queries without pause
// and check every answer; a pg-error fault (SELECT 'boom' answered with
// 40001) is applied and reverted 100 times. Each time, the fourth
// connection sees the injected error while the fault is applied and the
// server's answer after the revert, and every link has left the kernel path
// and joined it again; no query of the three fails or gets a wrong answer.
func TestProofPGErrorOnTheSockmapFastPath(t *testing.T) {
	pg, _ := servers(t)
	p := startProxy(t, "pg", pg.Addr())
	if fp := p.Stats().FastPath; fp != proxy.FastPathSockmap {
		t.Skipf("the sockmap fast path is not available here (fast path: %s; it needs Linux with BTF, root or CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN)", fp)
	}
	const cycles, busy = 100, 3
	conns := make([]*pgx.Conn, busy+1)
	for i := range conns {
		conns[i] = mustPG(t, pg, p.Addr())
		mustQuery(t, conns[i], "SELECT 'boom'", "boom")
	}
	kernelLinks := func(n int64) func() bool { return func() bool { return p.Stats().KernelLinks == n } }
	waitFor(t, kernelLinks(2*int64(len(conns))))

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() }) // before the connections close
	var queries atomic.Int64
	errs := make(chan error, busy)
	for _, c := range conns[1:] {
		wg.Go(func() {
			if err := queryLoop(ctx, c, &queries); err != nil {
				errs <- err
				cancel()
			}
		})
	}
	spec := faults.PGErrorSpec{Match: faults.Match{SQL: `(?i)^select 'boom'`}, Probability: 1,
		SQLState: "40001", Message: "could not serialize access"}
	for i := range cycles {
		revert := inject(t, p, "boom", spec)
		var pgErr *pgconn.PgError
		if _, err := queryText(conns[0], "SELECT 'boom'"); !errors.As(err, &pgErr) || pgErr.Code != "40001" {
			t.Fatalf("cycle %d: SELECT 'boom' with the fault applied: %v, want SQLSTATE 40001", i, err)
		}
		waitFor(t, kernelLinks(0))
		revert()
		mustQuery(t, conns[0], "SELECT 'boom'", "boom")
		waitFor(t, kernelLinks(2*int64(len(conns))))
		if ctx.Err() != nil {
			break
		}
	}
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := p.Stats().Faults["boom"].RequestsErrored; got != 1 {
		t.Errorf("the last injection answered %d queries itself, want 1", got)
	}
	t.Logf("%d cycles; %d queries checked on the busy connections meanwhile", cycles, queries.Load())
}

// queryLoop runs `SELECT n * 2, repeat('x', n % 3000)` with n counting up
// until ctx ends, and checks every answer.
func queryLoop(ctx context.Context, c *pgx.Conn, queries *atomic.Int64) error {
	for n := int64(1); ctx.Err() == nil; n++ {
		var twice int64
		var pad string
		qctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := c.QueryRow(qctx, "SELECT $1::int8 * 2, repeat('x', ($1::int8 % 3000)::int)", n).Scan(&twice, &pad)
		cancel()
		switch {
		case err != nil:
			return err
		case twice != 2*n || pad != strings.Repeat("x", int(n%3000)):
			return errors.New("a query got another query's answer")
		}
		queries.Add(1)
	}
	return nil
}

// queryText runs a query that returns one text value.
func queryText(c *pgx.Conn, sql string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var s string
	// The simple protocol sends the SQL every time: the fault matches
	// statements by their text, and one prepared before it came is only a name.
	err := c.QueryRow(ctx, sql, pgx.QueryExecModeSimpleProtocol).Scan(&s)
	return s, err
}

func mustQuery(t *testing.T, c *pgx.Conn, sql, want string) {
	t.Helper()
	got, err := queryText(c, sql)
	if err != nil || got != want {
		t.Fatalf("%s: %q, %v; want %q", sql, got, err, want)
	}
}
