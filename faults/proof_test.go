package faults_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/rs/zerolog"

	"github.com/chaosload/chaosload/demo"
	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/proxy"
)

// TestProofLatency: a latency fault of 10 ms and of 100 ms (downstream: the
// response is held, once per round trip) delays every pgx query and every
// HTTP GET of the demo service by at least that much, and the fault counts a
// held response for each. How close the added delay comes to what was
// asked (p50, p99) is printed by BenchmarkProofLatency.
func TestProofLatency(t *testing.T) {
	for _, cl := range latencyClients(t) {
		for _, lat := range []time.Duration{10 * time.Millisecond, 100 * time.Millisecond} {
			t.Run(fmt.Sprintf("%s %v", cl.name, lat), func(t *testing.T) {
				name := fmt.Sprintf("latency-%v", lat)
				revert := inject(t, cl.p, name, faults.LatencySpec{Latency: lat, Direction: faults.Downstream})
				const n = 10
				for range n {
					if d := cl.timed(t); d < lat {
						t.Errorf("%s took %v with a %v latency fault, want at least that", cl.name, d, lat)
					}
				}
				revert()
				if got := cl.p.Stats().Faults[name].ChunksDelayed; got < n {
					t.Errorf("the fault held %d responses for %d round trips, want one each", got, n)
				}
			})
		}
	}
}

// latencyClient is one client operation through one proxy.
type latencyClient struct {
	name string
	p    *proxy.Proxy
	op   func() error
}

// latencyClients are the clients the latency proof and benchmark use: a
// pgx SELECT 1 through a proxy in front of PostgreSQL, and a GET of the
// demo service's /healthz through a proxy in front of the service.
func latencyClients(tb testing.TB) []latencyClient {
	tb.Helper()
	pg, rd := servers(tb)
	pgProxy := startProxy(tb, "postgres", pg.Addr())
	conn := mustPG(tb, pg, pgProxy.Addr())
	svc := startService(tb, pg, rd)
	apiProxy := startProxy(tb, "api", svc.Addr())
	tr := &http.Transport{MaxIdleConnsPerHost: 1}
	tb.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	url := "http://" + apiProxy.Addr() + "/healthz"
	return []latencyClient{
		{"pgx", pgProxy, func() error {
			var one int
			return conn.QueryRow(context.Background(), "SELECT 1").Scan(&one)
		}},
		{"http", apiProxy, func() error { return httpGet(client, url) }},
	}
}

// timed runs the operation once and returns how long it took.
func (c latencyClient) timed(tb testing.TB) time.Duration {
	tb.Helper()
	start := time.Now()
	if err := c.op(); err != nil {
		tb.Fatal(err)
	}
	return time.Since(start)
}

// TestProofPoolExhaustionPostgres: while the fault holds, a fresh pgx
// connection gets SQLSTATE 53300; after the revert pg_stat_activity lists no
// session of chaosload's and a new connection succeeds.
func TestProofPoolExhaustionPostgres(t *testing.T) {
	pg, _ := servers(t)
	f := &faults.Fault{Name: "pg-full", Target: "postgres", Kind: faults.PoolExhaustion}
	act, err := faults.Bind(f, faults.TargetInfo{Name: "postgres", Protocol: "postgres",
		DSN: pg.DSN(demo.Superuser, demo.ShopDatabase)}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	undo, err := act.Apply(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	_, err = pgConnect(context.Background(), pg, pg.Addr())
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "53300" {
		undo(context.Background())
		t.Fatalf("fresh connection while exhausted: %v, want SQLSTATE 53300", err)
	}
	t.Logf("while exhausted: %v", err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := undo(ctx); err != nil {
		t.Fatal(err)
	}
	admin := mustPG(t, pg, pg.Addr())
	var held int
	if err := admin.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'chaosload%'").Scan(&held); err != nil {
		t.Fatal(err)
	}
	if held != 0 {
		t.Errorf("pg_stat_activity lists %d sessions of chaosload after the revert", held)
	}
}

// TestProofPoolExhaustionRedis: while the fault holds, a new client through
// the proxy reads "ERR max number of clients reached" (what Redis answers
// before closing) and go-redis fails to use a new connection; after the
// revert a new go-redis client works. It runs its own Redis with maxclients
// 64, so the fill is quick.
//
// go-redis itself does not surface Redis's message: it writes its first
// command after Redis has already closed the refused connection, and
// reports the write's broken pipe or reset, connected directly as through
// the proxy; a client that reads first (redis-cli, a raw RESP client) shows
// the message, so that is what the test checks, plus go-redis's failure.
func TestProofPoolExhaustionRedis(t *testing.T) {
	servers(t)
	rd, err := demo.StartRedis(context.Background(), demo.RedisConfig{MaxClients: 64})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rd.Close() })
	if rd.InProcess() {
		t.Skip("the in-process Redis has no maxclients; install redis-server (make deps)")
	}
	p := startProxy(t, "redis", rd.Addr())
	f := &faults.Fault{Name: "redis-full", Target: "redis", Kind: faults.PoolExhaustion}
	act, err := faults.Bind(f, faults.TargetInfo{Name: "redis", Protocol: "redis", Proxy: p}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	undo, err := act.Apply(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	reply, err := respPing(p.Addr())
	if !strings.HasPrefix(reply, "-ERR max number of clients reached") {
		undo(context.Background())
		t.Fatalf("PING through the proxy while exhausted: %q, %v; want -ERR max number of clients reached", reply, err)
	}
	goErr := newRedis(t, p.Addr()).Ping(context.Background()).Err()
	if goErr == nil {
		undo(context.Background())
		t.Fatal("go-redis PING succeeded while Redis was full")
	}
	t.Logf("while exhausted: raw client read %q; go-redis: %v", strings.TrimSpace(reply), goErr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := undo(ctx); err != nil {
		t.Fatal(err)
	}
	if err := newRedis(t, p.Addr()).Ping(ctx).Err(); err != nil {
		t.Errorf("new client after the revert: %v", err)
	}
}

// respPing connects to addr, reads what the server says first (a refusal
// comes unasked) or sends PING, and returns the first reply line.
func respPing(addr string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	r := bufio.NewReader(c)
	c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if line, err := r.ReadString('\n'); err == nil {
		return line, nil
	}
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return "", err
	}
	return r.ReadString('\n')
}

// isReset reports whether err is a connection reset as a client library
// reports it.
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || (err != nil && strings.Contains(err.Error(), "connection reset by peer"))
}

// TestProofResetAndDown: a reset ends a go-redis and a pgx command in
// flight (BLPOP, pg_sleep) at once with a connection error, and a raw client
// on the same proxy reads ECONNRESET (a real RST); while down, new
// connections are refused (ECONNREFUSED).
//
// What the libraries report for the RST: go-redis v9.23 says "EOF" and pgx
// v5.12 "conn closed", because a concurrent health check of theirs consumes
// the socket's ECONNRESET first (Linux reports a socket error once, then end
// of stream); an idle go-redis connection shows nothing at all, its pool
// quietly dials a new one. The raw client proves the wire.
func TestProofResetAndDown(t *testing.T) {
	pg, rd := servers(t)
	pgProxy := startProxy(t, "postgres", pg.Addr())
	redisProxy := startProxy(t, "redis", rd.Addr())
	conn := mustPG(t, pg, pgProxy.Addr())
	rc := newRedis(t, redisProxy.Addr())
	ctx := context.Background()
	if err := rc.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	raw, err := net.Dial("tcp", redisProxy.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	// The commands in flight: each would wait 5 s on the server, and a
	// command that ended normally (nil, or redis.Nil after its timeout) is
	// told apart from one the reset ended by the error it returns.
	redisBefore, pgBefore := redisProxy.Stats().BytesUp, pgProxy.Stats().BytesUp
	errs := make(chan error, 2)
	go func() { errs <- fmt.Errorf("go-redis: %w", rc.BLPop(ctx, 5*time.Second, "proof-reset-nothing").Err()) }()
	go func() { _, err := conn.Exec(ctx, "SELECT pg_sleep(5)"); errs <- fmt.Errorf("pgx: %w", err) }()
	rawBLPop := "*3\r\n$5\r\nBLPOP\r\n$4\r\nnone\r\n$1\r\n5\r\n"
	raw.Write([]byte(rawBLPop))
	// Both BLPOPs and the query have passed the proxies to the servers.
	goBLPop := "*3\r\n$5\r\nBLPOP\r\n$19\r\nproof-reset-nothing\r\n$1\r\n5\r\n"
	waitFor(t, func() bool {
		return redisProxy.Stats().BytesUp >= redisBefore+uint64(len(rawBLPop)+len(goBLPop)) &&
			pgProxy.Stats().BytesUp > pgBefore
	})
	start := time.Now()
	for _, p := range []*proxy.Proxy{pgProxy, redisProxy} {
		inject(t, p, "reset", faults.ResetSpec{})()
	}
	raw.SetReadDeadline(time.Now().Add(30 * time.Second)) // a hang
	if _, err := raw.Read(make([]byte, 64)); !isReset(err) {
		t.Errorf("raw client during reset: %v, want ECONNRESET", err)
	}
	for range 2 {
		err := <-errs
		t.Logf("after %v: %v", time.Since(start).Round(time.Millisecond), err)
		if !isReset(err) && !errors.Is(err, io.EOF) && !errors.Is(err, pgconn.ErrConnClosed) &&
			!strings.Contains(err.Error(), "conn closed") {
			t.Errorf("command in flight during reset: %v, want a connection error", err)
		}
	}

	for _, p := range []*proxy.Proxy{pgProxy, redisProxy} {
		revert := inject(t, p, "down", faults.DownSpec{})
		defer revert()
	}
	if _, err := pgConnect(ctx, pg, pgProxy.Addr()); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("pgx connect while down: %v, want connection refused", err)
	}
	if err := newRedis(t, redisProxy.Addr()).Ping(ctx).Err(); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("go-redis while down: %v, want connection refused", err)
	}
}

// TestProofConnLimit: with max 5, five pgx connections work and the sixth
// is refused (reset during its startup) or, with queue, waits; once one of
// the five closes, a new one connects (refuse) or the waiting one completes
// (queue).
func TestProofConnLimit(t *testing.T) {
	pg, _ := servers(t)
	for _, mode := range []faults.Excess{faults.Refuse, faults.Queue} {
		t.Run(string(mode), func(t *testing.T) {
			p := startProxy(t, "postgres", pg.Addr())
			inject(t, p, "cap", faults.ConnLimitSpec{Max: 5, OnExcess: mode})
			var five []*pgx.Conn
			for range 5 {
				five = append(five, mustPG(t, pg, p.Addr()))
			}
			// A refusal comes at once, whatever the machine: wait for it up
			// to 30 s (a hang). A queued connection stays silent: half a
			// second of silence shows it waits (a slow machine can only
			// make that check pass more easily, never fail it).
			wait := 30 * time.Second
			if mode == faults.Queue {
				wait = 500 * time.Millisecond
			}
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			_, err := pgConnect(ctx, pg, p.Addr())
			cancel()
			switch mode {
			case faults.Refuse:
				if err == nil || errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("sixth connection: %v, want refused", err)
				}
				t.Logf("sixth connection refused: %v", err)
				five[0].Close(context.Background())
				waitFor(t, func() bool { return p.Stats().Active == 4 })
				mustPG(t, pg, p.Addr())
			case faults.Queue:
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("sixth connection: %v, want it to wait", err)
				}
				done := make(chan error, 1)
				go func() {
					c, err := pgConnect(context.Background(), pg, p.Addr())
					if err == nil {
						c.Close(context.Background())
					}
					done <- err
				}()
				select {
				case err := <-done:
					t.Fatalf("queued connection completed with all five open: %v", err)
				case <-time.After(300 * time.Millisecond):
				}
				five[0].Close(context.Background())
				if err := <-done; err != nil {
					t.Fatalf("queued connection after one closed: %v", err)
				}
			}
		})
	}
}

// waitFor polls cond (a counter reached, a state entered) until it holds;
// 30 s without it is a hang.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 30s: a hang")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
