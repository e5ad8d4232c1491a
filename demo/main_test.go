package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"
	"go.uber.org/goleak"
)

// One PostgreSQL cluster serves every test that does not need its own; it
// is started on first use and stopped after the last test.
var shared struct {
	once sync.Once
	pg   *Postgres
	err  error
}

func TestMain(m *testing.M) {
	RunServiceIfChild() // the stack's service re-executes this test binary
	code := m.Run()
	if shared.pg != nil {
		if err := shared.pg.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "stop shared postgres:", err)
			code = 1
		}
	}
	if code == 0 {
		if err := goleak.Find(goRedisRedial); err != nil {
			fmt.Fprintln(os.Stderr, "goroutine leak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// testLogger logs at warn level and above into the test's output.
func testLogger(tb testing.TB) zerolog.Logger {
	return zerolog.New(zerolog.ConsoleWriter{Out: zerolog.TestWriter{T: tb, Frame: 6}, NoColor: true}).
		Level(zerolog.WarnLevel).With().Timestamp().Logger()
}

// sharedPostgres returns the shared cluster, skipping the test when the
// PostgreSQL binaries are not installed.
func sharedPostgres(tb testing.TB) *Postgres {
	tb.Helper()
	shared.once.Do(func() {
		begin := time.Now()
		shared.pg, shared.err = StartPostgres(context.Background(), PostgresConfig{Logger: zerolog.Nop()})
		if shared.err == nil {
			fmt.Fprintf(os.Stderr, "shared postgres started in %v\n", time.Since(begin).Round(time.Millisecond))
		}
	})
	skipIfMissing(tb, shared.err)
	if shared.err != nil {
		tb.Fatalf("start shared postgres: %v", shared.err)
	}
	return shared.pg
}

// startPostgres starts a cluster of the test's own, stopped at cleanup.
func startPostgres(tb testing.TB, cfg PostgresConfig) *Postgres {
	tb.Helper()
	cfg.Logger = testLogger(tb)
	begin := time.Now()
	pg, err := StartPostgres(context.Background(), cfg)
	skipIfMissing(tb, err)
	if err != nil {
		tb.Fatalf("StartPostgres: %v", err)
	}
	tb.Logf("postgres started in %v", time.Since(begin).Round(time.Millisecond))
	tb.Cleanup(func() {
		if err := pg.Close(); err != nil {
			tb.Errorf("close postgres: %v", err)
		}
	})
	return pg
}

func skipIfMissing(tb testing.TB, err error) {
	tb.Helper()
	if errors.Is(err, ErrPostgresNotInstalled) {
		tb.Skipf("skipping: %v", err)
	}
}

// startRedis starts a redis-server of the test's own, stopped at cleanup;
// it skips the test when redis-server is not installed.
func startRedis(tb testing.TB, cfg RedisConfig) *Redis {
	tb.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil && !cfg.InProcess {
		tb.Skip("skipping: redis-server not installed (apt-get install -y redis-server, or make deps)")
	}
	cfg.Logger = testLogger(tb)
	r, err := StartRedis(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("StartRedis: %v", err)
	}
	tb.Cleanup(func() {
		if err := r.Close(); err != nil {
			tb.Errorf("close redis: %v", err)
		}
	})
	return r
}

// connect opens a pgx connection, closed at cleanup.
func connect(tb testing.TB, dsn string) *pgx.Conn {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatalf("connect %s: %v", dsn, err)
	}
	tb.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// processGone waits until no process is left in the process group the
// package started for pid (the postmaster and its backends, or
// redis-server); 30 s of waiting is a hang.
func processGone(tb testing.TB, pid int) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := syscall.Kill(-pid, 0)
		if errors.Is(err, syscall.ESRCH) {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("process group %d still has processes (kill -0: %v)", pid, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitFor waits until cond holds; 30 s of waiting is a hang.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatalf("waited 30s for %s: a hang", what)
		}
	}
}

// startService runs a service until the test ends.
func startService(tb testing.TB, cfg ServiceConfig) *Service {
	tb.Helper()
	cfg.Logger = testLogger(tb)
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 200 * time.Millisecond
	}
	svc, err := NewService(cfg)
	if err != nil {
		tb.Fatalf("NewService: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("service Run: %v", err)
		}
	})
	return svc
}

// client is an HTTP client for one test: bounded by timeout, idle
// connections closed at cleanup.
type client struct {
	tb   testing.TB
	base string
	hc   *http.Client
}

func newClient(tb testing.TB, addr string, timeout time.Duration) *client {
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	tb.Cleanup(tr.CloseIdleConnections)
	return &client{tb: tb, base: "http://" + addr, hc: &http.Client{Transport: tr, Timeout: timeout}}
}

// reply is one HTTP exchange as a test sees it.
type reply struct {
	status  int
	header  http.Header
	body    string
	took    time.Duration
	err     error // transport error or client timeout
	timeout bool
}

func (c *client) do(method, path, body string) reply {
	c.tb.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.tb.Fatalf("new request: %v", err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	begin := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		var ne interface{ Timeout() bool }
		return reply{err: err, took: time.Since(begin), timeout: errors.As(err, &ne) && ne.Timeout()}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: string(b), took: time.Since(begin), err: err}
}

func (c *client) get(path string) reply { return c.do(http.MethodGet, path, "") }

// healthy asks /healthz until both dependencies answered within the check's
// bound (healthTimeout), and returns that reply. On a busy machine one
// check can take longer than 250 ms, a new pool connection to PostgreSQL
// above all; that is the machine, not the service. The wait is bounded
// only to catch a dependency that never answers.
func (c *client) healthy() (reply, health) {
	c.tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		rep := c.get("/healthz")
		h := decode[health](c.tb, rep)
		if h.Status == "ok" || time.Now().After(deadline) {
			return rep, h
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *client) postOrder(product, qty int) reply {
	return c.do(http.MethodPost, "/api/orders", fmt.Sprintf(`{"product": %d, "qty": %d}`, product, qty))
}

// decode parses a reply's JSON body.
func decode[T any](tb testing.TB, r reply) T {
	tb.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		tb.Fatalf("decode %q: %v", r.body, err)
	}
	return v
}

func (r reply) String() string {
	if r.err != nil {
		return fmt.Sprintf("error after %v: %v", r.took.Round(time.Millisecond), r.err)
	}
	return fmt.Sprintf("%d after %v: %s", r.status, r.took.Round(time.Millisecond), strings.TrimSpace(r.body))
}

// goRedisRedial ignores go-redis's background redial: after five failed
// dials its pool retries once a second in a goroutine of its own, which
// sees the pool closed and ends at its next wake-up, up to a second after
// the client was closed (longer than goleak waits).
var goRedisRedial = goleak.IgnoreAnyFunction("github.com/redis/go-redis/v9/internal/pool.(*ConnPool).tryDial")
