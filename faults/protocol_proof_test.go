package faults_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/redis/go-redis/v9"

	"github.com/chaosload/chaosload/faults"
)

// The proofs of the protocol-aware kinds, each by what a real client sees.

// pgCode returns the SQLSTATE of err, "" when it is no *pgconn.PgError.
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// TestProofPGError: pgx sees *pgconn.PgError with the chosen SQLSTATE for a
// matching query, in the simple and in the extended protocol, and the next
// query on the same connection succeeds; a query that does not match is
// untouched; inside a transaction the error fails it and ROLLBACK recovers;
// the proxy counts every injected error.
func TestProofPGError(t *testing.T) {
	pg, _ := servers(t)
	p := startProxy(t, "pg", pg.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	spec := faults.PGErrorSpec{Match: faults.Match{SQL: `(?i)from products`}, Probability: 1, SQLState: "40001",
		Message: "could not serialize access"}
	inject(t, p, "serialize", spec)
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement, pgx.QueryExecModeExec} {
		c := mustPG(t, pg, p.Addr())
		var n int
		err := c.QueryRow(ctx, "SELECT count(*) FROM products WHERE id > $1", mode, 0).Scan(&n)
		if pgCode(err) != "40001" || !strings.Contains(err.Error(), "could not serialize access") {
			t.Fatalf("mode %v: matching query: %v (code %q), want *pgconn.PgError 40001", mode, err, pgCode(err))
		}
		var one int
		if err := c.QueryRow(ctx, "SELECT 1 + $1::int", mode, 0).Scan(&one); err != nil || one != 1 {
			t.Fatalf("mode %v: next query on the same connection: %d, %v", mode, one, err)
		}
		tx, err := c.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = tx.Exec(ctx, "SELECT id FROM products LIMIT 1", mode)
		if pgCode(err) != "40001" {
			t.Fatalf("mode %v: in a transaction: %v, want 40001", mode, err)
		}
		if err := tx.Rollback(ctx); err != nil {
			t.Fatalf("mode %v: rollback after the injected error: %v", mode, err)
		}
		if err := c.QueryRow(ctx, "SELECT 2", mode).Scan(&one); err != nil || one != 2 {
			t.Fatalf("mode %v: after the rollback: %d, %v", mode, one, err)
		}
	}
	if got := p.Stats().Faults["serialize"].RequestsErrored; got != 6 {
		t.Errorf("Stats.Faults[serialize].RequestsErrored = %d, want 6", got)
	}
}

// TestProofPGCommitError: a failed COMMIT ends the transaction as
// PostgreSQL's own commit-time failure does: pgx's Tx.Commit returns
// *pgconn.PgError 40001, the session is idle (not failed: pgx keeps the
// connection rather than closing it), the transaction's insert is not
// committed, and the next transaction on the same connection commits.
func TestProofPGCommitError(t *testing.T) {
	pg, _ := servers(t)
	p := startProxy(t, "pg", pg.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := mustPG(t, pg, p.Addr())
	if _, err := c.Exec(ctx, "CREATE TEMP TABLE t (v int)"); err != nil {
		t.Fatal(err)
	}
	revert := inject(t, p, "commit", faults.PGErrorSpec{Match: faults.Match{SQL: `(?i)^commit`}, Probability: 1,
		SQLState: "40001", Message: "could not serialize access due to read/write dependencies"})
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); pgCode(err) != "40001" {
		t.Fatalf("commit: %v, want *pgconn.PgError 40001", err)
	}
	if c.IsClosed() || c.PgConn().TxStatus() != 'I' {
		t.Fatalf("after the failed commit: closed %v, status %q; want open and idle ('I')", c.IsClosed(), c.PgConn().TxStatus())
	}
	revert()
	var n int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 0 {
		t.Fatalf("rows after the failed commit: %d, %v; want 0 (rolled back)", n, err)
	}
	tx, err = c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO t VALUES (2)"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatalf("next commit on the same connection: %v", err)
	}
	if err := c.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 1 {
		t.Fatalf("rows after the second commit: %d, %v; want 1", n, err)
	}
	if got := p.Stats().Faults["commit"].RequestsErrored; got != 1 {
		t.Errorf("Injected = %d, want 1", got)
	}
}

// TestProofPGErrorProbability: with probability 50% about half of the
// matching queries fail, each with 57014, and every other query succeeds
// on the same connection (pipelined batches keep their order).
func TestProofPGErrorProbability(t *testing.T) {
	pg, _ := servers(t)
	p := startProxy(t, "pg", pg.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	inject(t, p, "cancel", faults.PGErrorSpec{Probability: 0.5, SQLState: "57014", Message: "canceling statement"})
	c := mustPG(t, pg, p.Addr())
	failed := 0
	for i := range 200 {
		var v int
		err := c.QueryRow(ctx, "SELECT $1::int", i).Scan(&v)
		switch {
		case err == nil && v == i:
		case pgCode(err) == "57014":
			failed++
		default:
			t.Fatalf("query %d: %d, %v", i, v, err)
		}
	}
	if failed < 60 || failed > 140 {
		t.Errorf("%d of 200 failed at probability 50%%", failed)
	}
	if got := p.Stats().Faults["cancel"].RequestsErrored; got != int64(failed) {
		t.Errorf("Injected = %d, the client saw %d", got, failed)
	}
	// A batch: the errors land on their own queries, the rest answer in order.
	b := &pgx.Batch{}
	for i := range 20 {
		b.Queue("SELECT $1::int", i)
	}
	br := c.SendBatch(ctx, b)
	for i := range 20 {
		var v int
		if err := br.QueryRow().Scan(&v); err == nil && v != i {
			t.Fatalf("batch query %d answered %d", i, v)
		}
	}
	br.Close()
	var v int
	if err := c.QueryRow(ctx, "SELECT 7", pgx.QueryExecModeSimpleProtocol).Scan(&v); err != nil && pgCode(err) != "57014" {
		t.Fatalf("after the batch: %v", err)
	}
}

// TestProofRedisError: go-redis sees the chosen error for a matching
// command, others are untouched, and a pipeline stays aligned.
func TestProofRedisError(t *testing.T) {
	_, rd := servers(t)
	p := startProxy(t, "redis", rd.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := newRedis(t, p.Addr())
	for i, k := range []string{"user:1", "user:2", "cart:1"} {
		if err := c.Set(ctx, k, i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	inject(t, p, "loading", faults.RedisErrorSpec{Match: faults.Match{Command: "get", Key: "user:*"}, Probability: 1,
		Message: "LOADING Redis is loading the dataset in memory"})
	err := c.Get(ctx, "user:1").Err()
	if err == nil || err.Error() != "LOADING Redis is loading the dataset in memory" {
		t.Fatalf("GET user:1: %v, want the LOADING error", err)
	}
	if v, err := c.Get(ctx, "cart:1").Result(); err != nil || v != "2" {
		t.Fatalf("GET cart:1 (no match): %q, %v", v, err)
	}
	pipe := c.Pipeline()
	cmds := []*redis.StringCmd{pipe.Get(ctx, "cart:1"), pipe.Get(ctx, "user:2"), pipe.Get(ctx, "cart:1"), pipe.Get(ctx, "user:1")}
	echo := pipe.Echo(ctx, "last")
	pipe.Exec(ctx)
	for i, want := range []string{"2", "LOADING", "2", "LOADING"} {
		v, err := cmds[i].Result()
		if (want == "LOADING") != (err != nil && strings.HasPrefix(err.Error(), "LOADING")) || (err == nil && v != want) {
			t.Errorf("pipeline command %d: %q, %v; want %s", i, v, err, want)
		}
	}
	if v, err := echo.Result(); v != "last" || err != nil {
		t.Errorf("pipeline ECHO: %q, %v", v, err)
	}
	if got := p.Stats().Faults["loading"].RequestsErrored; got != 3 {
		t.Errorf("Injected = %d, want 3", got)
	}
}

// TestProofRedisErrorInTransaction: a command the proxy fails inside
// MULTI aborts the transaction the way Redis's own queue-time rejections
// do. The same go-redis TxPipelined call is run against Redis directly with
// a command Redis rejects (GET without its key) and through the proxy with
// an injected LOADING: both end in EXECABORT, nothing of the transaction
// is applied, and the connection stays aligned for the next commands.
func TestProofRedisErrorInTransaction(t *testing.T) {
	_, rd := servers(t)
	p := startProxy(t, "redis", rd.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// tx sets key, runs bad, increments counter, in one transaction.
	tx := func(c *redis.Client, key string, bad func(redis.Pipeliner) redis.Cmder) (error, error) {
		var badCmd redis.Cmder
		_, err := c.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
			pipe.Set(ctx, key, "1", 0)
			badCmd = bad(pipe)
			pipe.Incr(ctx, key+":n")
			return nil
		})
		return err, badCmd.Err()
	}
	direct := newRedis(t, rd.Addr())
	wantErr, wantBad := tx(direct, "direct", func(pipe redis.Pipeliner) redis.Cmder { return pipe.Do(ctx, "get") })
	if wantErr == nil || !strings.HasPrefix(wantErr.Error(), "EXECABORT") || wantBad == nil {
		t.Fatalf("real Redis: transaction error %v, rejected command %v; the reference behaviour changed", wantErr, wantBad)
	}
	c := newRedis(t, p.Addr())
	revert := inject(t, p, "loading", faults.RedisErrorSpec{Match: faults.Match{Command: "GET", Key: "user:*"}, Probability: 1,
		Message: "LOADING Redis is loading the dataset in memory"})
	err, bad := tx(c, "proxied", func(pipe redis.Pipeliner) redis.Cmder { return pipe.Get(ctx, "user:1") })
	if err == nil || err.Error() != wantErr.Error() {
		t.Errorf("through the proxy: transaction error %v, want %v (as Redis answers)", err, wantErr)
	}
	if bad == nil || !strings.HasPrefix(bad.Error(), "LOADING") {
		t.Errorf("the failed command: %v, want the LOADING error", bad)
	}
	// Aligned: the next commands on the same connection get their own
	// replies, and nothing of the transaction was applied (as directly).
	for _, k := range []string{"proxied", "proxied:n"} {
		if err := c.Get(ctx, k).Err(); err != redis.Nil {
			t.Errorf("GET %s after the aborted transaction: %v, want nil (not applied)", k, err)
		}
	}
	if v, err := c.Echo(ctx, "aligned").Result(); v != "aligned" || err != nil {
		t.Errorf("ECHO after the transaction: %q, %v", v, err)
	}
	// A transaction without a failed command still commits.
	if _, err := c.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.Set(ctx, "ok", "1", 0)
		pipe.Get(ctx, "cart:1")
		return nil
	}); err != nil && err != redis.Nil {
		t.Errorf("a clean transaction through the proxy: %v", err)
	}
	revert()
	if v, err := c.Get(ctx, "ok").Result(); v != "1" || err != nil {
		t.Errorf("GET ok: %q, %v; want the clean transaction's 1", v, err)
	}
}

// TestProofHTTPError: net/http sees the chosen status, headers and body for
// a matching request, the demo service never sees it, other requests pass,
// and the keep-alive connection is reused afterwards.
func TestProofHTTPError(t *testing.T) {
	pg, rd := servers(t)
	svc := startService(t, pg, rd)
	p := startProxy(t, "api", svc.Addr())
	inject(t, p, "unavailable", faults.HTTPErrorSpec{Match: faults.Match{Method: "GET", Path: "/api/orders/*"},
		Probability: 1, Status: 503, Headers: map[string]string{"Retry-After": "2"}, Body: "try later"})
	var conns atomic.Int32
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) {
		if !i.Reused {
			conns.Add(1)
		}
	}}
	client := &http.Client{Timeout: 5 * time.Second}
	get := func(path string) (int, string, http.Header) {
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", "http://"+p.Addr()+path, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	for range 3 {
		code, body, h := get("/api/orders/1")
		if code != 503 || body != "try later" || h.Get("Retry-After") != "2" {
			t.Fatalf("GET /api/orders/1: %d %q Retry-After %q; want 503 \"try later\" 2", code, body, h.Get("Retry-After"))
		}
		if code, _, _ := get("/api/products"); code != 200 {
			t.Fatalf("GET /api/products (no match): %d", code)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for 6 requests, want 1 (keep-alive reused)", n)
	}
	if got := p.Stats().Faults["unavailable"].RequestsErrored; got != 3 {
		t.Errorf("Injected = %d, want 3", got)
	}
}

// TestProofPGDelay: a matching query is held for the latency, one that does
// not match is not.
func TestProofPGDelay(t *testing.T) {
	pg, _ := servers(t)
	p := startProxy(t, "pg", pg.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	inject(t, p, "slow", faults.RequestDelaySpec{Protocol: "postgres", Match: faults.Match{SQL: `pg_sleep|products`},
		Probability: 1, Latency: 300 * time.Millisecond})
	c := mustPG(t, pg, p.Addr())
	timed := func(sql string) time.Duration {
		start := time.Now()
		if _, err := c.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
		return time.Since(start)
	}
	if d := timed("SELECT count(*) FROM products"); d < 300*time.Millisecond {
		t.Errorf("matching query took %v, want ≥ 300ms", d)
	}
	// Not held: shown by the fault's count, not a timed bound a busy
	// machine could break.
	timed("SELECT 1")
	if n := p.Stats().Faults["slow"].RequestsDelayed; n != 1 {
		t.Errorf("%d queries held, want 1 (the query that does not match is not)", n)
	}
}

// TestProofRedisDelay: go-redis gets a matching command's reply late by the
// latency; in a pipeline the commands behind it wait too and every reply
// stays with its command; commands that do not match are not held.
func TestProofRedisDelay(t *testing.T) {
	const lat = 300 * time.Millisecond
	_, rd := servers(t)
	p := startProxy(t, "redis", rd.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := newRedis(t, p.Addr())
	for i, k := range []string{"user:1", "cart:1"} {
		if err := c.Set(ctx, k, i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	inject(t, p, "slow", faults.RequestDelaySpec{Protocol: "redis", Match: faults.Match{Command: "GET", Key: "user:*"},
		Probability: 1, Latency: lat})
	start := time.Now()
	if v, err := c.Get(ctx, "user:1").Result(); err != nil || v != "0" {
		t.Fatalf("GET user:1: %q, %v", v, err)
	}
	if d := time.Since(start); d < lat {
		t.Errorf("matching GET answered in %v, want ≥ %v", d, lat)
	}
	if v, err := c.Get(ctx, "cart:1").Result(); err != nil || v != "1" {
		t.Fatalf("GET cart:1: %q, %v", v, err)
	}
	if n := p.Stats().Faults["slow"].RequestsDelayed; n != 1 {
		t.Errorf("%d commands held, want 1 (GET cart:1 does not match)", n)
	}
	pipe := c.Pipeline()
	first, held, after := pipe.Get(ctx, "cart:1"), pipe.Get(ctx, "user:1"), pipe.Echo(ctx, "after")
	start = time.Now()
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < lat {
		t.Errorf("pipeline with a matching GET answered in %v, want ≥ %v", d, lat)
	}
	if first.Val() != "1" || held.Val() != "0" || after.Val() != "after" {
		t.Errorf("pipeline replies %q %q %q, want 1 0 after (in order)", first.Val(), held.Val(), after.Val())
	}
	if n := p.Stats().Faults["slow"].RequestsDelayed; n != 2 {
		t.Errorf("%d commands held, want 2", n)
	}
}
