package faults_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/chaosload/chaosload/demo"
	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/proxy"
)

// The revert-in-flight proofs. A protocol fault is reverted right after the
// proxy counted an error it injected (the event that says the error is
// decided and its answer queued), while the server is still busy with the
// request before it — held there by the test until the revert has
// returned, so the server's speed decides nothing — and, for Redis and
// HTTP, while the client is still in the middle of what the fault decided
// (a transaction it failed, the body of a request it answered). The client
// must still get exactly what the fault decided, the revert must not wait
// for it, and the connection must then leave the fault (back on the kernel
// path where the sockmap fast path is on). Each proof runs on both fast
// paths.

// onEachPath runs proof on a proxy in front of upstream, once on the
// sockmap fast path (the default where the kernel offers it; skipped where
// it does not) and once on the copy path (Config.NoSockmap).
func onEachPath(t *testing.T, upstream string, proof func(t *testing.T, p *proxy.Proxy)) {
	for _, path := range []struct {
		name      string
		noSockmap bool
	}{
		{proxy.FastPathSockmap, false},
		{proxy.FastPathCopy, true},
	} {
		t.Run(path.name, func(t *testing.T) {
			p := startProxyWith(t, proxy.Config{Name: path.name, Upstream: upstream, Seed: 1, Logger: zerolog.Nop(),
				NoSockmap: path.noSockmap})
			if got := p.Stats().FastPath; got != path.name {
				t.Skipf("the %s fast path is not available here (it is %s: sockmap needs Linux with BTF, root or CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN)",
					path.name, got)
			}
			proof(t, p)
		})
	}
}

// pgOnEachPath runs proof on each path in front of the shared PostgreSQL,
// with a direct connection to it and table (id int) empty.
func pgOnEachPath(t *testing.T, table string, proof func(t *testing.T, p *proxy.Proxy, pg *demo.Postgres, direct *pgx.Conn)) {
	pg, _ := servers(t)
	direct := mustPG(t, pg, pg.Addr())
	mustExec(t, direct, "CREATE TABLE IF NOT EXISTS "+table+" (id int)")
	onEachPath(t, pg.Addr(), func(t *testing.T, p *proxy.Proxy) {
		mustExec(t, direct, "TRUNCATE "+table)
		proof(t, p, pg, direct)
	})
}

// backOnFastPath waits until the proxy's one connection has left every
// stage: on the sockmap path its two links are back in the kernel. (On the
// copy path there is nothing to see; the request after the revert shows
// that the fault no longer applies.)
func backOnFastPath(t *testing.T, p *proxy.Proxy) {
	t.Helper()
	if p.Stats().FastPath == proxy.FastPathSockmap {
		waitFor(t, func() bool { return p.Stats().KernelLinks == 2 })
	}
}

// errored waits until fault name has injected n errors.
func errored(t *testing.T, p *proxy.Proxy, name string, n int64) {
	t.Helper()
	waitFor(t, func() bool { return p.Stats().Faults[name].RequestsErrored == n })
}

// TestProofPGErrorRevertInFlight: a pg-error fault on COMMIT, reverted
// while the COMMIT's error waits behind a query the server cannot finish
// (it waits for an advisory lock the test holds until the revert has
// returned). The client still gets 40001 and its transaction ended
// (ReadyForQuery idle, from the server, which ran the ROLLBACK standing for
// the COMMIT), and the row it inserted is not there — not a COMMIT answered
// by nothing, which a client takes for success although nothing was
// committed. Afterwards the same connection commits normally.
func TestProofPGErrorRevertInFlight(t *testing.T) {
	pgOnEachPath(t, "revert_proof", func(t *testing.T, p *proxy.Proxy, _ *demo.Postgres, holder *pgx.Conn) {
		revert := inject(t, p, "commit", faults.PGErrorSpec{Match: faults.Match{SQL: `(?i)^commit`}, Probability: 1,
			SQLState: "40001", Message: "could not serialize access"})
		fe := pgWire(t, p.Addr())
		fe.expect(t, "BEGIN", "", 'T')
		fe.expect(t, "INSERT INTO revert_proof VALUES (1)", "", 'T')

		mustExec(t, holder, "SELECT pg_advisory_lock(4242)")
		t.Cleanup(func() { holder.Exec(context.Background(), "SELECT pg_advisory_unlock_all()") })
		fe.send(t, "SELECT pg_advisory_xact_lock(4242)", "COMMIT") // one write: the COMMIT's error waits behind the lock
		errored(t, p, "commit", 1)
		revert() // returns while the server still waits for the lock
		mustExec(t, holder, "SELECT pg_advisory_unlock(4242)")

		if code, status := readResponse(t, fe.Frontend); code != "" || status != 'T' {
			t.Fatalf("the lock's query: SQLSTATE %q, ReadyForQuery %q; want none and T", code, status)
		}
		if code, status := readResponse(t, fe.Frontend); code != "40001" || status != 'I' {
			t.Errorf("COMMIT decided before the revert: SQLSTATE %q, ReadyForQuery %q; want 40001 and I", code, status)
		}
		if n := countRows(t, holder, "revert_proof", 1); n != 0 {
			t.Errorf("the client was told its COMMIT failed, yet %d row(s) were committed", n)
		}

		backOnFastPath(t, p)
		fe.expect(t, "BEGIN", "", 'T')
		fe.expect(t, "INSERT INTO revert_proof VALUES (2)", "", 'T')
		fe.expect(t, "COMMIT", "", 'I') // the fault is gone
		if n := countRows(t, holder, "revert_proof", 2); n != 1 {
			t.Errorf("a COMMIT after the revert: %d row(s) committed, want 1", n)
		}
		if got := p.Stats().Faults["commit"].RequestsErrored; got != 1 {
			t.Errorf("Injected = %d, want 1", got)
		}
	})
}

// wire is a PostgreSQL connection through the proxy spoken message by
// message.
type wire struct{ *pgproto3.Frontend }

// pgWire connects to addr as the shop role and hands over the wire.
func pgWire(t *testing.T, addr string) wire {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()
	c, err := pgconn.Connect(ctx, demo.PostgresDSN(addr, demo.ShopRole, demo.ShopDatabase))
	if err != nil {
		t.Fatal(err)
	}
	hj, err := c.Hijack()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hj.Conn.Close() })
	if err := hj.Conn.SetDeadline(time.Now().Add(hangLimit)); err != nil {
		t.Fatal(err)
	}
	return wire{hj.Frontend}
}

// send sends the queries as simple queries in one write.
func (w wire) send(t *testing.T, queries ...string) {
	t.Helper()
	for _, q := range queries {
		w.Send(&pgproto3.Query{String: q})
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}

// expect runs one query and checks its SQLSTATE ("" for none) and
// ReadyForQuery status.
func (w wire) expect(t *testing.T, query, code string, status byte) {
	t.Helper()
	w.send(t, query)
	if c, s := readResponse(t, w.Frontend); c != code || s != status {
		t.Fatalf("%s: SQLSTATE %q, ReadyForQuery %q; want %q and %q", query, c, s, code, status)
	}
}

// hangLimit is how long a proof waits for an answer before calling it a
// hang.
const hangLimit = 30 * time.Second

func mustExec(t *testing.T, c *pgx.Conn, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()
	if _, err := c.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// countRows counts the committed rows of table with the given id.
func countRows(t *testing.T, c *pgx.Conn, table string, id int) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()
	var n int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM "+table+" WHERE id = $1", id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// readResponse reads one query's messages up to its ReadyForQuery and
// returns the SQLSTATE of its ErrorResponse ("" if none) and its status.
func readResponse(t *testing.T, fe *pgproto3.Frontend) (string, byte) {
	t.Helper()
	code := ""
	for {
		msg, err := fe.Receive()
		if err != nil {
			t.Fatalf("receive: %v", err)
		}
		switch m := msg.(type) {
		case *pgproto3.ErrorResponse:
			code = m.Code
		case *pgproto3.ReadyForQuery:
			return code, m.TxStatus
		}
	}
}

// TestProofRedisErrorRevertInFlight: a redis-error fault fails a SET inside
// MULTI while the server is blocked on the BLPOP before it (the test pushes
// the element only after the revert), and is reverted before the client
// has even sent the rest of its transaction. The client still gets the
// SET's error in its place, its EXEC gets EXECABORT and nothing of the
// transaction is applied — not a transaction run without the command the
// client was told failed. Afterwards the same connection's SET passes.
func TestProofRedisErrorRevertInFlight(t *testing.T) {
	_, rd := servers(t)
	direct := newRedis(t, rd.Addr())
	onEachPath(t, rd.Addr(), func(t *testing.T, p *proxy.Proxy) {
		ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
		defer cancel()
		if err := direct.Del(ctx, "revert:q", "revert:bad", "revert:other").Err(); err != nil {
			t.Fatal(err)
		}
		revert := inject(t, p, "loading", faults.RedisErrorSpec{Match: faults.Match{Command: "SET", Key: "revert:bad"},
			Probability: 1, Message: "LOADING Redis is loading the dataset in memory"})
		c := dialRaw(t, p.Addr())
		write(t, c, resp("BLPOP", "revert:q", "0")+resp("MULTI")+resp("SET", "revert:bad", "1"))
		errored(t, p, "loading", 1)
		revert() // the SET's error waits behind the BLPOP, its transaction is open
		write(t, c, resp("SET", "revert:other", "1")+resp("EXEC"))
		if err := direct.LPush(ctx, "revert:q", "x").Err(); err != nil {
			t.Fatal(err)
		}
		readExactly(t, c, "*2\r\n$8\r\nrevert:q\r\n$1\r\nx\r\n"+ // BLPOP
			"+OK\r\n"+ // MULTI
			"-LOADING Redis is loading the dataset in memory\r\n"+ // SET revert:bad, decided before the revert
			"+QUEUED\r\n"+ // SET revert:other
			"-EXECABORT Transaction discarded because of previous errors.\r\n") // EXEC
		if err := direct.Get(ctx, "revert:other").Err(); !errors.Is(err, redis.Nil) {
			t.Errorf("GET revert:other: %v, want nil: the aborted transaction was applied", err)
		}

		backOnFastPath(t, p)
		write(t, c, resp("SET", "revert:bad", "1"))
		readExactly(t, c, "+OK\r\n") // the fault is gone
		if got := p.Stats().Faults["loading"].RequestsErrored; got != 1 {
			t.Errorf("Injected = %d, want 1", got)
		}
	})
}

// resp renders a command in RESP.
func resp(args ...string) string {
	var b strings.Builder
	b.WriteString("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b.WriteString("$" + strconv.Itoa(len(a)) + "\r\n" + a + "\r\n")
	}
	return b.String()
}

// TestProofHTTPErrorRevertInFlight: an http-error fault answers POST /x
// (its body only half sent) while the server is still busy with the GET
// /slow before it (the test lets it answer after the revert). The client
// still gets the 503 in its place, the rest of the dropped request's body
// never reaches the server (where it would be a malformed request), and the
// next GET /x on the same connection reaches the server.
func TestProofHTTPErrorRevertInFlight(t *testing.T) {
	srv := newHeldServer(t)
	onEachPath(t, srv.addr(), func(t *testing.T, p *proxy.Proxy) {
		srv.reset()
		revert := inject(t, p, "unavailable", faults.HTTPErrorSpec{Match: faults.Match{Path: "/x"}, Probability: 1,
			Status: 503, Body: "injected"})
		c := dialRaw(t, p.Addr())
		write(t, c, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"+
			"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345")
		errored(t, p, "unavailable", 1)
		revert() // the 503 waits behind /slow, half the POST's body is to come
		write(t, c, "67890"+"GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
		srv.letSlowAnswer()

		r := bufio.NewReader(c)
		for _, want := range []struct {
			code int
			body string
		}{{200, "slow"}, {503, "injected"}, {200, "x"}} {
			code, body := readHTTP(t, r)
			if code != want.code || body != want.body {
				t.Fatalf("response %d %q, want %d %q (in order: /slow, the POST decided before the revert, GET /x after it)",
					code, body, want.code, want.body)
			}
		}
		if got, want := srv.seen(), []string{"GET /slow", "GET /x"}; !slices.Equal(got, want) {
			t.Errorf("the server saw %q, want %q", got, want)
		}
		backOnFastPath(t, p)
		if got := p.Stats().Faults["unavailable"].RequestsErrored; got != 1 {
			t.Errorf("Injected = %d, want 1", got)
		}
	})
}

// heldServer is an HTTP server whose /slow answers only when the test lets
// it; it records the requests it saw.
type heldServer struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []string
	slow chan struct{}
}

func newHeldServer(t *testing.T) *heldServer {
	h := &heldServer{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.reqs = append(h.reqs, r.Method+" "+r.URL.Path+string(body))
		slow := h.slow
		h.mu.Unlock()
		if r.URL.Path == "/slow" {
			select {
			case <-slow:
			case <-r.Context().Done():
				return
			}
		}
		io.WriteString(w, strings.TrimPrefix(r.URL.Path, "/"))
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *heldServer) addr() string { return h.srv.Listener.Addr().String() }

// reset forgets the requests seen and holds /slow again.
func (h *heldServer) reset() {
	h.mu.Lock()
	h.reqs, h.slow = nil, make(chan struct{})
	h.mu.Unlock()
}

func (h *heldServer) letSlowAnswer() {
	h.mu.Lock()
	close(h.slow)
	h.mu.Unlock()
}

func (h *heldServer) seen() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.reqs)
}

// readHTTP reads one response and its body.
func readHTTP(t *testing.T, r *bufio.Reader) (int, string) {
	t.Helper()
	rsp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	defer rsp.Body.Close()
	b, err := io.ReadAll(rsp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return rsp.StatusCode, string(b)
}

// dialRaw connects to addr; every read and write after it has hangLimit.
func dialRaw(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, hangLimit)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(hangLimit))
	return c
}

// write sends s in one write.
func write(t *testing.T, c net.Conn, s string) {
	t.Helper()
	if _, err := io.WriteString(c, s); err != nil {
		t.Fatal(err)
	}
}

// readExactly reads len(want) bytes and checks they are want.
func readExactly(t *testing.T, c net.Conn, want string) {
	t.Helper()
	got := make([]byte, len(want))
	n, err := io.ReadFull(c, got)
	if err != nil || string(got) != want {
		t.Fatalf("read %q (%v), want %q", got[:n], err, want)
	}
}

// TestProofPGErrorRevertUnderLoad: four pgx connections commit small
// transactions without pause while a pg-error fault fails half of their
// COMMITs and is reverted in the middle of it (once it has failed 20), so
// that decisions and the revert meet at every moment of the protocol.
// Whatever the moment, what each client was told is what the database
// holds: every COMMIT that succeeded is committed, every one that got 40001
// is not, and every connection keeps working after the revert.
func TestProofPGErrorRevertUnderLoad(t *testing.T) {
	pgOnEachPath(t, "revert_load", func(t *testing.T, p *proxy.Proxy, pg *demo.Postgres, check *pgx.Conn) {
		const workers, after, most = 4, 10, 1000 // after the revert: commits each; most: iterations each (a bound)
		conns := make([]*pgx.Conn, workers)
		for i := range conns {
			conns[i] = mustPG(t, pg, p.Addr())
		}
		revert := inject(t, p, "commit", faults.PGErrorSpec{Match: faults.Match{SQL: `(?i)^commit`}, Probability: 0.5,
			SQLState: "40001", Message: "could not serialize access"})
		reverted := make(chan struct{})
		told := make([]map[int]bool, workers) // id → the client was told it committed
		errs := make(chan error, workers)
		var wg sync.WaitGroup
		for w, c := range conns {
			told[w] = map[int]bool{}
			wg.Go(func() { errs <- commitLoop(c, w*most, most, after, reverted, told[w]) })
		}
		waitFor(t, func() bool {
			return p.Stats().Faults["commit"].RequestsErrored >= 20 || len(errs) > 0
		})
		revert()
		close(reverted)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		ok, failed := 0, 0
		for w := range told {
			for id, committed := range told[w] {
				if n := countRows(t, check, "revert_load", id); n != map[bool]int{true: 1, false: 0}[committed] {
					t.Errorf("id %d: the client was told committed=%v, the table holds %d row(s)", id, committed, n)
				}
				if committed {
					ok++
				} else {
					failed++
				}
			}
		}
		if int64(failed) != p.Stats().Faults["commit"].RequestsErrored {
			t.Errorf("%d COMMITs failed, the fault counts %d", failed, p.Stats().Faults["commit"].RequestsErrored)
		}
		t.Logf("%d transactions committed, %d failed by the fault", ok, failed)
	})
}

// commitLoop commits one-row transactions (ids from base) on c until it has
// made `after` of them after reverted closed (at most `most` in all), and
// records in told whether each was acknowledged. A COMMIT may fail only
// with the fault's 40001.
func commitLoop(c *pgx.Conn, base, most, after int, reverted <-chan struct{}, told map[int]bool) error {
	left := after
	for i := range most {
		select {
		case <-reverted:
			if left == 0 {
				return nil
			}
			left--
		default:
		}
		committed, err := commitOne(c, base+i)
		if err != nil {
			return err
		}
		told[base+i] = committed
	}
	return errors.New("the fault was not reverted within the loop's bound")
}

// commitOne inserts id in one transaction and reports whether its COMMIT
// succeeded.
func commitOne(c *pgx.Conn, id int) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()
	tx, err := c.Begin(ctx)
	if err != nil {
		return false, err
	}
	if _, err := tx.Exec(ctx, "INSERT INTO revert_load VALUES ($1)", id); err != nil {
		return false, err
	}
	err = tx.Commit(ctx)
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &pgErr) && pgErr.Code == "40001":
		return false, nil
	}
	return false, err
}
