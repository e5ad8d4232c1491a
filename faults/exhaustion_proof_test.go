package faults_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/chaosload/chaosload/demo"
	"github.com/chaosload/chaosload/faults"
)

// The proofs that pool exhaustion bites: a pooled client whose connections
// are reset meets the server's own refusal on every reconnect for as long as
// the fault holds; with nobody else connecting the hold makes no connection
// attempt after its fill; the reserved slots stay free unless reserved: 0.

// timeline runs the given faults, all due at once, on target t through a
// Timeline, until the returned stop is called; it returns once every fault
// is applied. stop reverts them and returns the records.
func timeline(t *testing.T, target faults.TargetInfo, fs ...faults.Fault) (actions []faults.Action, stop func() []faults.Record) {
	t.Helper()
	tl := &faults.Timeline{}
	applied := make(chan struct{}, len(fs))
	tl.OnEvent = func(ev faults.Event) {
		if !ev.Reverting && ev.ApplyErr == nil {
			applied <- struct{}{}
		}
	}
	for i := range fs {
		a, err := faults.Bind(&fs[i], target, zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		actions = append(actions, a)
		tl.Entries = append(tl.Entries, faults.Entry{Fault: &fs[i], Action: a})
	}
	epoch := time.Now()
	tl.Now = func() time.Duration { return time.Since(epoch) }
	ctx, cancel := context.WithCancel(context.Background())
	var recs []faults.Record
	var runErr error
	done := make(chan struct{})
	go func() { defer close(done); recs, runErr = tl.Run(ctx) }()
	stop = func() []faults.Record {
		cancel()
		<-done
		if runErr != nil {
			t.Errorf("timeline: %v", runErr)
		}
		return recs
	}
	t.Cleanup(func() { stop() })
	for range fs {
		select {
		case <-applied:
		case <-done:
			t.Fatalf("the timeline ended before every fault was applied: %v", runErr)
		}
	}
	return actions, stop
}

// exhaustAndReset are a pool exhaustion held until stopped and a one-shot
// reset of the same target, due together.
func exhaustAndReset(target string) []faults.Fault {
	return []faults.Fault{
		{Name: "full", Target: target, Kind: faults.PoolExhaustion, Duration: time.Hour},
		{Name: "reset", Target: target, Kind: faults.Reset},
	}
}

// TestProofPoolExhaustionResetPostgres: a pgxpool of 4 connections through
// the proxy, reset while the server is exhausted: for 40 queries spread over
// two seconds, none succeeds; every one past the 4 dead connections is
// refused with SQLSTATE 53300, each a reconnect through the proxy that the
// proxy saw the server refuse. After the revert the pool works again.
func TestProofPoolExhaustionResetPostgres(t *testing.T) {
	pg, _ := servers(t)
	p := startProxy(t, "postgres", pg.Addr())
	cfg, err := pgxpool.ParseConfig(demo.PostgresDSN(p.Addr(), demo.ShopRole, demo.ShopDatabase))
	if err != nil {
		t.Fatal(err)
	}
	const poolSize = 4
	cfg.MaxConns = poolSize
	cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	concurrently(t, poolSize, func(ctx context.Context) error { // open all 4
		_, err := pool.Exec(ctx, "SELECT pg_sleep(0.1)")
		return err
	})

	actions, stop := timeline(t, faults.TargetInfo{Name: "postgres", Protocol: "postgres",
		DSN: pg.DSN(demo.Superuser, demo.ShopDatabase), Proxy: p}, exhaustAndReset("postgres")...)
	var ok, refused, other int
	paced(40, 50*time.Millisecond, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := pool.Exec(ctx, "SELECT 1")
		var pe *pgconn.PgError
		switch {
		case err == nil:
			ok++
		case errors.As(err, &pe) && pe.Code == "53300":
			refused++
		default:
			other++
			t.Logf("not refused: %v", err)
		}
	})
	hold := actions[0].(faults.Holder).HoldStats()
	st := p.Stats().Faults["full"]
	recs := stop()
	t.Logf("40 queries: %d refused with 53300, %d other errors, %d succeeded; proxy: %d admissions, %d refused by the server, %d admitted; hold: %+v",
		refused, other, ok, st.Admissions, st.ServerRefused, st.ServerAdmitted, hold)
	if ok != 0 || refused < 40-poolSize {
		t.Errorf("while exhausted: %d queries succeeded, %d refused with 53300; want none to succeed and at least %d refused", ok, refused, 40-poolSize)
	}
	if st.ServerRefused < int64(refused) || st.ServerAdmitted != 0 {
		t.Errorf("the proxy saw %d refused and %d admitted by the server; want at least the client's %d refusals and none admitted",
			st.ServerRefused, st.ServerAdmitted, refused)
	}
	if recs[0].Hold == nil || recs[0].Hold.Peak == 0 {
		t.Errorf("record of the pool exhaustion: %+v", recs[0])
	}
	if _, err := pool.Exec(context.Background(), "SELECT 1"); err != nil {
		t.Errorf("query after the revert: %v", err)
	}
}

// TestProofPoolExhaustionResetRedis: the same with a go-redis client of 4
// connections against a Redis of maxclients 64: none of 40 PINGs succeeds,
// the proxy sees the server refuse the client's reconnects ("max number of
// clients reached") and admit none, and a raw client through the proxy reads
// Redis's own refusal.
func TestProofPoolExhaustionResetRedis(t *testing.T) {
	servers(t)
	rd := ownRedis(t, 64)
	p := startProxy(t, "redis", rd.Addr())
	const poolSize = 4
	client := redis.NewClient(&redis.Options{Addr: p.Addr(), PoolSize: poolSize, MaxRetries: -1,
		DialTimeout: 2 * time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second})
	t.Cleanup(func() { client.Close() })
	concurrently(t, poolSize, func(ctx context.Context) error { // open all 4
		return client.BLPop(ctx, time.Second, "nothing").Err()
	})

	actions, stop := timeline(t, faults.TargetInfo{Name: "redis", Protocol: "redis", Proxy: p}, exhaustAndReset("redis")...)
	var ok, failed int
	paced(40, 50*time.Millisecond, func() {
		if err := client.Ping(context.Background()).Err(); err != nil {
			failed++
		} else {
			ok++
		}
	})
	reply, _ := respPing(p.Addr())
	hold := actions[0].(faults.Holder).HoldStats()
	st := p.Stats().Faults["full"]
	stop()
	t.Logf("40 PINGs: %d failed, %d succeeded; raw client read %q; proxy: %d admissions, %d refused by the server, %d admitted; hold: %+v",
		failed, ok, strings.TrimSpace(reply), st.Admissions, st.ServerRefused, st.ServerAdmitted, hold)
	if ok != 0 {
		t.Errorf("while exhausted: %d PINGs succeeded, want none", ok)
	}
	if !strings.HasPrefix(reply, "-ERR max number of clients reached") {
		t.Errorf("raw client through the proxy read %q, want Redis's refusal", reply)
	}
	if st.ServerRefused < int64(poolSize) || st.ServerAdmitted != 0 {
		t.Errorf("the proxy saw %d refused and %d admitted by the server; want the client's reconnects refused and none admitted",
			st.ServerRefused, st.ServerAdmitted)
	}
	if err := client.Ping(context.Background()).Err(); err != nil {
		t.Errorf("PING after the revert: %v", err)
	}
}

// TestProofPoolExhaustionReserved: by default the hold leaves PostgreSQL's
// superuser_reserved_connections free, even with a superuser dsn: a
// superuser connects during the fault while the shop's role is refused;
// with reserved: 0 the hold takes those slots too and the superuser is
// refused as well.
func TestProofPoolExhaustionReserved(t *testing.T) {
	pg, _ := servers(t)
	zero := 0
	tests := []struct {
		name      string
		reserved  *int
		superuser bool // a superuser can connect during the fault
	}{
		// the default: superuser_reserved_connections (3) stay free
		{"default", nil, true},
		// reserved: 0 takes them
		{"reserved 0", &zero, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &faults.Fault{Name: "pg-full", Target: "postgres", Kind: faults.PoolExhaustion, Reserved: tc.reserved}
			act, err := faults.Bind(f, faults.TargetInfo{Name: "postgres", Protocol: "postgres",
				DSN: pg.DSN(demo.Superuser, demo.ShopDatabase)}, zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			undo, err := act.Apply(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { undo(context.Background()) })
			_, shopErr := pgConnect(context.Background(), pg, pg.Addr())
			admin, adminErr := pgx.Connect(context.Background(), pg.DSN(demo.Superuser, demo.ShopDatabase))
			if adminErr == nil {
				admin.Close(context.Background())
			}
			t.Logf("held %d of max_connections %d (%d reserved); shop role: %v; superuser: %v",
				act.(faults.Holder).HoldStats().Peak, pg.MaxConnections(), pg.SuperuserReserved(), shopErr, adminErr)
			if !isNoSlot(shopErr) {
				t.Errorf("the shop's role connected: %v; want 53300", shopErr)
			}
			if tc.superuser && adminErr != nil {
				t.Errorf("a superuser could not connect during the fault: %v", adminErr)
			}
			if !tc.superuser && !isNoSlot(adminErr) {
				t.Errorf("a superuser connected with reserved: 0 (err %v); want 53300", adminErr)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := undo(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestProofPoolExhaustionQuiet: with nobody else connecting, the hold makes
// no connection attempt after its fill, however many polls pass (20 here, at
// 20 ms each), and the server's own count of refused connections
// (PostgreSQL's log lines, Redis's rejected_connections) is the hold's own
// refused attempts, all made during the fill.
func TestProofPoolExhaustionQuiet(t *testing.T) {
	pg, _ := servers(t)
	rd := ownRedis(t, 64)
	// A connection opened before the fill reads Redis's stats after it.
	stats := redis.NewClient(&redis.Options{Addr: rd.Addr(), PoolSize: 1, MaxRetries: -1})
	t.Cleanup(func() { stats.Close() })
	tests := []struct {
		name    string
		target  faults.TargetInfo
		refused func(t *testing.T) int64 // the server's count of refused connections
	}{
		{"postgres", faults.TargetInfo{Name: "postgres", Protocol: "postgres", DSN: pg.DSN(demo.Superuser, demo.ShopDatabase)},
			func(t *testing.T) int64 { return pgRefusedLogLines(t, pg) }},
		{"redis", faults.TargetInfo{Name: "redis", Protocol: "redis", Addr: rd.Addr()},
			func(t *testing.T) int64 { return redisRejected(t, stats) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &faults.Fault{Name: "full", Target: tc.target.Name, Kind: faults.PoolExhaustion}
			act, err := faults.Bind(f, tc.target, zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			faults.SetHoldPoll(act, 20*time.Millisecond)
			before := tc.refused(t)
			undo, err := act.Apply(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { undo(context.Background()) })
			h := act.(faults.Holder)
			filled := h.HoldStats()
			waitFor(t, func() bool { return h.HoldStats().Polls >= filled.Polls+20 })
			later := h.HoldStats()
			serverRefused := tc.refused(t) - before
			t.Logf("fill: %+v; after 20 more polls: %+v; the server refused %d connections", filled, later, serverRefused)
			if later.Attempts != filled.Attempts {
				t.Errorf("%d connection attempts during 20 polls with nobody else connecting; want none", later.Attempts-filled.Attempts)
			}
			if serverRefused != later.Refused {
				t.Errorf("the server refused %d connections, the hold counted %d refused attempts", serverRefused, later.Refused)
			}
			if later.Held == 0 || later.Held != later.Peak {
				t.Errorf("held %d (peak %d): want the slots held throughout", later.Held, later.Peak)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := undo(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// ownRedis starts a redis-server of its own with the given maxclients,
// skipping when only the in-process Redis (which has no maxclients) exists.
func ownRedis(t testing.TB, maxClients int) *demo.Redis {
	t.Helper()
	rd, err := demo.StartRedis(context.Background(), demo.RedisConfig{MaxClients: maxClients})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rd.Close() })
	if rd.InProcess() {
		t.Skip("the in-process Redis has no maxclients; install redis-server (make deps)")
	}
	return rd
}

// pgRefusedLogLines counts the server log's lines of connections refused
// for lack of slots.
func pgRefusedLogLines(t testing.TB, pg *demo.Postgres) int64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(filepath.Dir(pg.DataDir()), "postgres.log"))
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for line := range strings.Lines(string(b)) {
		if strings.Contains(line, "too many clients") || strings.Contains(line, "remaining connection slots are reserved") {
			n++
		}
	}
	return n
}

// redisRejected reads INFO stats rejected_connections through c.
func redisRejected(t testing.TB, c *redis.Client) int64 {
	t.Helper()
	info, err := c.Info(context.Background(), "stats").Result()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "rejected_connections:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("INFO stats has no rejected_connections: %q", info)
	return 0
}

func isNoSlot(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "53300"
}

// concurrently runs f n times at once and fails the test on an error.
func concurrently(t *testing.T, n int, f func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = f(ctx) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, redis.Nil) {
			t.Fatal(err)
		}
	}
}

// paced calls f n times, every apart (or later when f is slower).
func paced(n int, every time.Duration, f func()) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for i := range n {
		if i > 0 {
			<-tick.C
		}
		f()
	}
}

// BenchmarkPoolExhaustionIdle holds a PostgreSQL (max_connections 30) and a
// Redis (maxclients 64) exhausted for 10 s each with the default 1 s poll
// and nobody else connecting, and reports what the servers counted: refused
// connections per second (PostgreSQL's log lines, Redis's
// rejected_connections) and the hold's own attempts per second after its
// fill. Run it with -benchtime=1x.
func BenchmarkPoolExhaustionIdle(b *testing.B) {
	pg, err := demo.StartPostgres(context.Background(), demo.PostgresConfig{MaxConnections: 30})
	if errors.Is(err, demo.ErrPostgresNotInstalled) {
		b.Skip(err)
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { pg.Close() })
	rd := ownRedis(b, 64)
	stats := redis.NewClient(&redis.Options{Addr: rd.Addr(), PoolSize: 1, MaxRetries: -1})
	b.Cleanup(func() { stats.Close() })
	const hold = 10 * time.Second
	targets := []struct {
		name    string
		target  faults.TargetInfo
		refused func() int64
	}{
		{"postgres", faults.TargetInfo{Name: "postgres", Protocol: "postgres", DSN: pg.DSN(demo.Superuser, demo.ShopDatabase)},
			func() int64 { return pgRefusedLogLines(b, pg) }},
		{"redis", faults.TargetInfo{Name: "redis", Protocol: "redis", Addr: rd.Addr()},
			func() int64 { return redisRejected(b, stats) }},
	}
	for range b.N {
		for _, tc := range targets {
			act, err := faults.Bind(&faults.Fault{Name: "full", Target: tc.name, Kind: faults.PoolExhaustion}, tc.target, zerolog.Nop())
			if err != nil {
				b.Fatal(err)
			}
			tc.refused() // opens the stats connection before the server is full
			undo, err := act.Apply(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			h := act.(faults.Holder)
			filled, before := h.HoldStats(), tc.refused()
			time.Sleep(hold)
			later, after := h.HoldStats(), tc.refused()
			if err := undo(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(after-before)/hold.Seconds(), tc.name+"-refused/s")
			b.ReportMetric(float64(later.Attempts-filled.Attempts)/hold.Seconds(), tc.name+"-hold-attempts/s")
			b.ReportMetric(float64(later.Peak), tc.name+"-slots-held")
			b.ReportMetric(float64(later.Polls-filled.Polls), tc.name+"-polls")
		}
	}
}

// TestProofPoolExhaustionRetakesLostSlots: when the server ends held
// connections (an administrator's pg_terminate_backend), the hold notices
// each at once and takes the slots back, leaving exactly the reserved slots
// free: with the administrator's session in one of them it holds one fewer;
// when the administrator leaves, the next poll takes that one too. The shop's
// role stays refused throughout.
func TestProofPoolExhaustionRetakesLostSlots(t *testing.T) {
	pg, _ := servers(t)
	f := &faults.Fault{Name: "pg-full", Target: "postgres", Kind: faults.PoolExhaustion}
	act, err := faults.Bind(f, faults.TargetInfo{Name: "postgres", Protocol: "postgres",
		DSN: pg.DSN(demo.Superuser, demo.ShopDatabase)}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	faults.SetHoldPoll(act, 20*time.Millisecond)
	undo, err := act.Apply(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { undo(context.Background()) })
	h := act.(faults.Holder)
	full := h.HoldStats().Held // max_connections - superuser_reserved_connections

	admin, err := pgx.Connect(context.Background(), pg.DSN(demo.Superuser, demo.ShopDatabase))
	if err != nil {
		t.Fatal(err)
	}
	var ended int
	if err := admin.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM (SELECT pid FROM pg_stat_activity
		WHERE application_name LIKE 'chaosload pool-exhaustion%' ORDER BY pid DESC LIMIT 3) held`).Scan(&ended); err != nil || ended != 3 {
		t.Fatalf("terminate 3 held backends: %d, %v", ended, err)
	}
	waitFor(t, func() bool { st := h.HoldStats(); return st.Events >= 3 && st.Held == full-1 })
	if _, err := pgConnect(context.Background(), pg, pg.Addr()); !isNoSlot(err) {
		t.Errorf("the shop's role with the administrator connected: %v, want 53300", err)
	}
	admin.Close(context.Background())
	waitFor(t, func() bool { return h.HoldStats().Held == full })
	if _, err := pgConnect(context.Background(), pg, pg.Addr()); !isNoSlot(err) {
		t.Errorf("the shop's role after the administrator left: %v, want 53300", err)
	}
	t.Logf("held %d; after losing 3 with an administrator connected: %d; then %+v", full, full-1, h.HoldStats())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := undo(ctx); err != nil {
		t.Fatal(err)
	}
}
