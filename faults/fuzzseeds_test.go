//go:build manual

// A manual measuring tool, not a test: `go test ./...` does not build it,
// so the suite skips nothing. Run it with: CHAOSLOAD_FUZZ_SEEDS=1 go test -tags manual -run TestCaptureFuzzSeeds ./faults/

package faults_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// TestCaptureFuzzSeeds writes the seed corpora of package proxy's codec
// fuzz targets (proxy/testdata/fuzz/FuzzXxx/*): the bytes real clients and
// servers exchange — pgx with PostgreSQL, go-redis with Redis (RESP 3 and
// 2), net/http and gorilla/websocket — recorded by a relay between them,
// one seed per connection and direction. It lives here, beside the fault
// proofs, because package proxy must not import demo. Opt-in, since it
// rewrites committed files:
//
//	CHAOSLOAD_FUZZ_SEEDS=1 go test -run '^TestCaptureFuzzSeeds$' ./faults/
func TestCaptureFuzzSeeds(t *testing.T) {
	if os.Getenv("CHAOSLOAD_FUZZ_SEEDS") == "" {
		t.Skip("rewrites proxy/testdata/fuzz: set CHAOSLOAD_FUZZ_SEEDS=1")
	}
	pg, rd := servers(t)
	w := seedWriter{dir: filepath.Join("..", "proxy", "testdata", "fuzz")}
	for _, s := range pgSessions {
		w.pg(t, s.name, capture(t, pg.Addr(), s.run))
	}
	for _, s := range redisSessions {
		w.redis(t, s.name, capture(t, rd.Addr(), s.run))
	}
	srv := httptest.NewServer(seedHandler())
	t.Cleanup(srv.Close)
	for _, s := range httpSessions {
		w.http(t, s.name, capture(t, srv.Listener.Addr().String(), s.run))
	}
	hello := clientHello(t)
	w.write(t, "FuzzPGUp", "tls-after-sslrequest", append(pgSSLRequest(), hello...))
	w.write(t, "FuzzRedisUp", "tls-client-hello", hello)
	w.write(t, "FuzzHTTPUp", "tls-client-hello", hello)
}

// session is one client conversation: run talks to addr, the relay in
// front of the server.
type session struct {
	name string
	run  func(t *testing.T, ctx context.Context, addr string)
}

// conversation is what one connection carried each way.
type conversation struct{ up, down []byte }

// capture runs a session through a recording relay in front of upstream
// and returns every connection's bytes, in the order they were accepted.
func capture(t *testing.T, upstream string, run func(t *testing.T, ctx context.Context, addr string)) []conversation {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		convs []*conversation
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conv := &conversation{}
			mu.Lock()
			convs = append(convs, conv)
			mu.Unlock()
			wg.Add(1)
			go func() { defer wg.Done(); relay(c, upstream, conv) }()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	run(t, ctx, ln.Addr().String())
	cancel()
	ln.Close()
	wg.Wait()
	out := make([]conversation, len(convs))
	for i, c := range convs {
		out[i] = *c
	}
	return out
}

// relay copies between client c and a new connection to upstream until
// either side closes, recording both directions.
func relay(c net.Conn, upstream string, conv *conversation) {
	defer c.Close()
	s, err := net.DialTimeout("tcp", upstream, 5*time.Second)
	if err != nil {
		return
	}
	defer s.Close()
	var up, down bytes.Buffer
	done := make(chan struct{})
	go func() {
		io.Copy(io.MultiWriter(s, &up), c)
		s.(*net.TCPConn).CloseWrite()
		close(done)
	}()
	io.Copy(io.MultiWriter(c, &down), s)
	c.Close()
	<-done
	conv.up, conv.down = up.Bytes(), down.Bytes()
}

// seedWriter writes corpus files in the native format.
type seedWriter struct{ dir string }

// write stores one seed of a target taking (data []byte, chunk uint16),
// whole and cut into reads of 7 bytes.
func (w seedWriter) write(t *testing.T, target, name string, data []byte) {
	w.file(t, target, name, fmt.Sprintf("[]byte(%q)\nuint16(0)\n", data))
	w.file(t, target, name+"-cut", fmt.Sprintf("[]byte(%q)\nuint16(7)\n", data))
}

func (w seedWriter) file(t *testing.T, target, name, values string) {
	dir := filepath.Join(w.dir, target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte("go test fuzz v1\n"+values), 0o644); err != nil {
		t.Fatal(err)
	}
}

// both writes each connection's two directions as seeds of a protocol's
// targets.
func (w seedWriter) both(t *testing.T, up, down, name string, convs []conversation) {
	if len(convs) == 0 {
		t.Fatalf("%s: no connection recorded", name)
	}
	for i, c := range convs {
		n := name
		if len(convs) > 1 {
			n = fmt.Sprintf("%s-%d", name, i+1)
		}
		if len(c.up) > 0 {
			w.write(t, up, n, c.up)
		}
		if down != "" && len(c.down) > 0 {
			w.write(t, down, n, c.down)
		}
	}
}

func (w seedWriter) pg(t *testing.T, name string, convs []conversation) {
	w.both(t, "FuzzPGUp", "FuzzPGDown", name, convs)
}

func (w seedWriter) redis(t *testing.T, name string, convs []conversation) {
	w.both(t, "FuzzRedisUp", "FuzzRedisDown", name, convs)
}

// http writes the responses with the methods of their requests, which
// FuzzHTTPDown needs to frame them (a response to HEAD has no body).
func (w seedWriter) http(t *testing.T, name string, convs []conversation) {
	w.both(t, "FuzzHTTPUp", "", name, convs)
	for i, c := range convs {
		methods := requestMethods(c.up)
		n := fmt.Sprintf("%s-%d", name, i+1)
		if len(convs) == 1 {
			n = name
		}
		for _, chunk := range []int{0, 7} {
			suffix := map[int]string{0: "", 7: "-cut"}[chunk]
			w.file(t, "FuzzHTTPDown", n+suffix, fmt.Sprintf("[]byte(%q)\nstring(%q)\nuint16(%d)\n", c.down, methods, chunk))
		}
	}
}

// requestMethods lists the methods of the requests in a client's stream.
func requestMethods(up []byte) string {
	r := bufio.NewReader(bytes.NewReader(up))
	var ms []string
	for {
		req, err := http.ReadRequest(r)
		if err != nil {
			return strings.Join(ms, " ")
		}
		ms = append(ms, req.Method)
		if req.Header.Get("Upgrade") != "" {
			return strings.Join(ms, " ")
		}
		io.Copy(io.Discard, req.Body)
	}
}

// pgSSLRequest is the SSLRequest a client sends before a TLS handshake.
func pgSSLRequest() []byte { return []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f} }

// clientHello returns the first flight of a crypto/tls client.
func clientHello(t *testing.T) []byte {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		buf := make([]byte, 4096)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _ := c.Read(buf)
		got <- buf[:n]
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tc := tls.Client(c, &tls.Config{ServerName: "localhost"})
	tc.SetDeadline(time.Now().Add(time.Second))
	go tc.Handshake()
	hello := <-got
	if len(hello) == 0 {
		t.Fatal("no ClientHello recorded")
	}
	return hello
}

// pgSessions are pgx conversations with the demo PostgreSQL.
var pgSessions = []session{
	{"pgx-simple-protocol", func(t *testing.T, ctx context.Context, addr string) {
		c := pgSeedConn(t, ctx, addr, "prefer", pgx.QueryExecModeSimpleProtocol)
		pgDo(t, ctx, c, "SELECT id, name, price_cents FROM products ORDER BY id LIMIT 3")
		pgDo(t, ctx, c, "BEGIN")
		pgDo(t, ctx, c, "CREATE TEMP TABLE kv (k text PRIMARY KEY, v bytea)")
		pgDo(t, ctx, c, "INSERT INTO kv VALUES ($1, $2)", "k1", []byte("value\x00\xff"))
		pgDo(t, ctx, c, "COMMIT")
		c.Exec(ctx, "SELEC 1") // a syntax error: an ErrorResponse
		c.Exec(ctx, "SELECT 1; SELECT 2")
		pgDo(t, ctx, c, "DO $$ BEGIN RAISE NOTICE 'hello'; END $$")
		c.Close(ctx)
	}},
	{"pgx-extended-protocol", func(t *testing.T, ctx context.Context, addr string) {
		c := pgSeedConn(t, ctx, addr, "disable", pgx.QueryExecModeCacheStatement)
		pgDo(t, ctx, c, "SELECT id, name FROM products WHERE id = $1", 1)
		pgDo(t, ctx, c, "SELECT id, name FROM products WHERE id = $1", 2)
		pgDo(t, ctx, c, "SELECT $1::int8, $2::text, $3::float8, $4::bool, $5::timestamptz", 7, "x", 1.5, true, time.Unix(0, 0))
		tx, err := c.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tx.Exec(ctx, "SELECT 1/0") // an error inside a transaction
		tx.Rollback(ctx)
		tx, err = c.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, "SELECT count(*) FROM orders"); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		c.Close(ctx)
	}},
	{"pgx-copy-batch-notify", func(t *testing.T, ctx context.Context, addr string) {
		c := pgSeedConn(t, ctx, addr, "disable", pgx.QueryExecModeDescribeExec)
		pgDo(t, ctx, c, "CREATE TEMP TABLE items (id int, note text)")
		rows := [][]any{{1, "one"}, {2, "two"}, {3, strings.Repeat("x", 300)}}
		if _, err := c.CopyFrom(ctx, pgx.Identifier{"items"}, []string{"id", "note"}, pgx.CopyFromRows(rows)); err != nil {
			t.Fatal(err)
		}
		b := &pgx.Batch{}
		b.Queue("SELECT count(*) FROM items")
		b.Queue("INSERT INTO items VALUES ($1, $2)", 4, "four")
		b.Queue("SELECT note FROM items WHERE id = $1", 3)
		if err := c.SendBatch(ctx, b).Close(); err != nil {
			t.Fatal(err)
		}
		pgDo(t, ctx, c, "LISTEN seeds")
		pgDo(t, ctx, c, "NOTIFY seeds, 'payload'")
		wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		c.WaitForNotification(wctx)
		cancel()
		c.Close(ctx)
	}},
	{"pgx-cancelled-query", func(t *testing.T, ctx context.Context, addr string) {
		c := pgSeedConn(t, ctx, addr, "disable", pgx.QueryExecModeCacheStatement)
		if err := c.PgConn().CancelRequest(ctx); err != nil { // on a connection of its own
			t.Fatal(err)
		}
		qctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		c.Exec(qctx, "SELECT pg_sleep(5)") // pgx gives the connection up at the deadline
		cancel()
		c.Close(ctx)
	}},
}

// pgSeedConn opens a pgx connection as the shop role through addr.
func pgSeedConn(t *testing.T, ctx context.Context, addr, sslmode string, mode pgx.QueryExecMode) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(fmt.Sprintf("postgres://shop@%s/shop?sslmode=%s", addr, sslmode))
	if err != nil {
		t.Fatal(err)
	}
	cfg.DefaultQueryExecMode = mode
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func pgDo(t *testing.T, ctx context.Context, c *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := c.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// redisSessions are go-redis conversations with the demo Redis.
var redisSessions = []session{
	{"go-redis-resp3", func(t *testing.T, ctx context.Context, addr string) { redisWork(t, ctx, addr, 3) }},
	{"go-redis-resp2", func(t *testing.T, ctx context.Context, addr string) { redisWork(t, ctx, addr, 2) }},
	{"go-redis-pubsub", func(t *testing.T, ctx context.Context, addr string) {
		c := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 1})
		defer c.Close()
		sub := c.Subscribe(ctx, "news")
		if _, err := sub.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		pub := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 1})
		pub.Publish(ctx, "news", "hello")
		pub.Close()
		if _, err := sub.ReceiveMessage(ctx); err != nil {
			t.Fatal(err)
		}
		sub.Close()
	}},
	{"inline-commands", func(t *testing.T, ctx context.Context, addr string) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write([]byte("PING\r\nSET k9 \"v 9\"\r\nGET k9\r\n\r\nECHO hi\r\n"))
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		r := bufio.NewReader(c)
		for range 4 {
			if _, err := r.ReadString('\n'); err != nil {
				t.Fatal(err)
			}
		}
	}},
}

// redisWork runs a shop's worth of commands over RESP version proto.
func redisWork(t *testing.T, ctx context.Context, addr string, proto int) {
	c := redis.NewClient(&redis.Options{Addr: addr, Protocol: proto, PoolSize: 1})
	defer c.Close()
	must := func(err error) {
		t.Helper()
		if err != nil && err != redis.Nil {
			t.Fatal(err)
		}
	}
	must(c.Set(ctx, "k1", "v1", time.Minute).Err())
	must(c.Get(ctx, "k1").Err())
	must(c.Get(ctx, "k-missing").Err())
	must(c.Set(ctx, "kbig", strings.Repeat("b", 5000), 0).Err())
	must(c.Get(ctx, "kbig").Err())
	must(c.Incr(ctx, "kcount").Err())
	must(c.IncrByFloat(ctx, "kfloat", 1.5).Err())
	must(c.HSet(ctx, "khash", "a", "1", "b", "2").Err())
	must(c.HGetAll(ctx, "khash").Err())
	must(c.SAdd(ctx, "kset", "x", "y").Err())
	must(c.SMembers(ctx, "kset").Err())
	must(c.ZAdd(ctx, "kz", redis.Z{Score: 1.5, Member: "m"}).Err())
	must(c.ZRangeWithScores(ctx, "kz", 0, -1).Err())
	c.LPush(ctx, "k1", "x") // WRONGTYPE: an error reply
	_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Get(ctx, "k1")
		p.Incr(ctx, "kcount")
		p.Exists(ctx, "k1", "k2")
		return nil
	})
	must(err)
	_, err = c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "k2", "v2", 0)
		p.Get(ctx, "k2")
		return nil
	})
	must(err)
	must(c.Del(ctx, "k1", "k2", "kbig", "kcount", "kfloat", "khash", "kset", "kz").Err())
}

// seedHandler serves the responses the HTTP sessions ask for.
func seedHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/a/json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.Copy(io.Discard, r.Body)
		fmt.Fprint(w, `{"id": 1, "name": "teapot"}`)
	})
	mux.HandleFunc("/a/chunked", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Sum")
		for i := range 3 {
			fmt.Fprintf(w, "part %d\n", i)
			w.(http.Flusher).Flush()
		}
		w.Header().Set("X-Sum", "3")
	})
	mux.HandleFunc("/a/gzip", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		fmt.Fprint(zw, strings.Repeat("compressible ", 50))
		zw.Close()
	})
	mux.HandleFunc("/a/empty", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("/a/cached", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		fmt.Fprint(w, "fresh")
	})
	mux.HandleFunc("/b/fail", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			typ, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			c.WriteMessage(typ, msg)
		}
	})
	return mux
}

// httpSessions are net/http and gorilla/websocket conversations.
var httpSessions = []session{
	{"net-http-keepalive", func(t *testing.T, ctx context.Context, addr string) {
		c := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1, DisableCompression: true}}
		defer c.CloseIdleConnections()
		base := "http://" + addr
		httpDo(t, c, ctx, "GET", base+"/a/json", nil, nil)
		httpDo(t, c, ctx, "POST", base+"/a/json", strings.NewReader(`{"product": 1, "qty": 2}`), map[string]string{"Content-Type": "application/json"})
		httpDo(t, c, ctx, "HEAD", base+"/a/json", nil, nil)
		httpDo(t, c, ctx, "GET", base+"/a/chunked", nil, nil)
		httpDo(t, c, ctx, "GET", base+"/a/empty", nil, nil)
		httpDo(t, c, ctx, "GET", base+"/a/cached", nil, map[string]string{"If-None-Match": `"v1"`})
		httpDo(t, c, ctx, "GET", base+"/a/gzip", nil, map[string]string{"Accept-Encoding": "gzip"})
		httpDo(t, c, ctx, "DELETE", base+"/b/fail?x=1&y=%20", nil, map[string]string{"X-Request-Id": "abc"})
	}},
	{"net-http-chunked-upload", func(t *testing.T, ctx context.Context, addr string) {
		c := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
		defer c.CloseIdleConnections()
		pr, pw := io.Pipe()
		go func() {
			for i := range 3 {
				fmt.Fprintf(pw, `{"line": %d}`+"\n", i)
			}
			pw.Close()
		}()
		httpDo(t, c, ctx, "POST", "http://"+addr+"/a/json", pr, nil) // unknown length: chunked
		httpDo(t, c, ctx, "PUT", "http://"+addr+"/a/json", strings.NewReader("0123456789"), map[string]string{"Expect": "100-continue"})
	}},
	{"gorilla-websocket", func(t *testing.T, ctx context.Context, addr string) {
		c, _, err := websocket.DefaultDialer.DialContext(ctx, "ws://"+addr+"/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for _, m := range []string{"hello", strings.Repeat("w", 200)} {
			c.WriteMessage(websocket.TextMessage, []byte(m))
			if _, _, err := c.ReadMessage(); err != nil {
				t.Fatal(err)
			}
		}
		c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	}},
}

func httpDo(t *testing.T, c *http.Client, ctx context.Context, method, url string, body io.Reader, hdr map[string]string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rsp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, rsp.Body)
	rsp.Body.Close()
}
