package httpload

import (
	"bufio"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chaosload/chaosload/load"
)

// The HTTP/1.1 framing cases users' servers produce, through both clients
// (the own one and net/http), as a real client sees them: status, bytes of
// body, and whether the connection was reused afterwards.

// scripted is a loopback server answering each request (method and path
// of its request line) with the raw response answer returns; "" closes the
// connection without answering. It counts connections and requests, and
// stops and waits when the test ends.
type scripted struct {
	url             string
	conns, requests atomic.Int64
}

func scriptedServer(tb testing.TB, answer func(method, path string) string) *scripted {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &scripted{url: "http://" + ln.Addr().String()}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var open []net.Conn
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
			mu.Lock()
			open = append(open, c)
			mu.Unlock()
			wg.Go(func() { s.serve(c, answer) })
		}
	})
	tb.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range open {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return s
}

// serve answers one connection's requests (bodies read and dropped).
func (s *scripted) serve(c net.Conn, answer func(method, path string) string) {
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		method, rest, _ := strings.Cut(line, " ")
		path, _, _ := strings.Cut(rest, " ")
		var length int64
		for {
			h, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if strings.TrimSpace(h) == "" {
				break
			}
			if k, v, ok := strings.Cut(h, ":"); ok && strings.EqualFold(k, "Content-Length") {
				length = atoiOr(strings.TrimSpace(v))
			}
		}
		io.CopyN(io.Discard, r, length)
		s.requests.Add(1)
		out := answer(method, path)
		if out == "" {
			return
		}
		if _, err := io.WriteString(c, out); err != nil {
			return
		}
	}
}

func atoiOr(s string) int64 {
	var n int64
	for _, d := range s {
		if d < '0' || d > '9' {
			return 0
		}
		n = n*10 + int64(d-'0')
	}
	return n
}

// TestResponseFraming: every way a response's end is known, then a second
// request on the same connection: Content-Length; chunked with extensions
// and trailers; chunked after another transfer coding; HEAD, 204 and 304
// whose Content-Length announces no body; interim 1xx responses before the
// final one; an error status with a body (the connection stays good).
// Each request must succeed (or fail only by its status) with the right
// body size, and the second must reuse the connection.
func TestResponseFraming(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, method, response string
		status                 int
		body                   int64
	}{
		{"length", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 200, 5},
		{"chunked", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
			"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n", 200, 11},
		{"coded-chunked", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity, chunked\r\n\r\n" +
			"3\r\nabc\r\n0\r\n\r\n", 200, 3},
		{"head", "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", 200, 0},
		{"204", "GET", "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n", 204, 0},
		{"304", "GET", "HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n", 304, 0},
		{"1xx", "GET", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n" +
			"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, 2},
		{"error", "GET", "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\noops", 500, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := scriptedServer(t, func(string, string) string { return tc.response })
			ms := plainModes
			if tc.name == "coded-chunked" { // net/http refuses any coding but chunked
				ms = ms[:1]
			}
			for _, m := range ms {
				d := newDriver(t, Config{NetHTTP: m.netHTTP})
				step := &load.Step{Name: tc.name, HTTP: &load.HTTPRequest{Method: tc.method, URL: srv.url + "/"}}
				for i := range 2 {
					r := do(d, newVU(), step)
					if r.Status != tc.status || r.BytesIn != tc.body || r.Class != classOfStatus(tc.status) {
						t.Fatalf("%s request %d: status %d bytes %d class %q (%v), want %d, %d bytes",
							m.name, i, r.Status, r.BytesIn, r.Class, r.Err, tc.status, tc.body)
					}
					if r.NewConns != 1-i {
						t.Errorf("%s request %d: %d new connections, want %d (the second reuses)", m.name, i, r.NewConns, 1-i)
					}
				}
			}
			if n := srv.conns.Load(); n != int64(len(ms)) {
				t.Errorf("server saw %d connections for %d clients, want one each", n, len(ms))
			}
		})
	}
}

// TestConnectionClose: a response saying Connection: close (or an HTTP/1.0
// one without keep-alive) is read whole and the connection is not reused.
func TestConnectionClose(t *testing.T) {
	t.Parallel()
	for name, response := range map[string]string{
		"close":  "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
		"http10": "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := scriptedServer(t, func(string, string) string { return response })
			for _, m := range plainModes {
				d := newDriver(t, Config{NetHTTP: m.netHTTP})
				for i := range 3 {
					if r := do(d, newVU(), get(srv.url)); !r.OK() || r.BytesIn != 2 || r.NewConns != 1 {
						t.Fatalf("%s request %d: class %q (%v) bytes %d new conns %d, want ok, 2, 1",
							m.name, i, r.Class, r.Err, r.BytesIn, r.NewConns)
					}
				}
			}
			if n := srv.conns.Load(); n != 6 {
				t.Errorf("server saw %d connections for 6 requests, want 6", n)
			}
		})
	}
}

// TestSwitchingProtocols: after a 101 the connection speaks another
// protocol; it is never handed to the next request.
func TestSwitchingProtocols(t *testing.T) {
	t.Parallel()
	srv := scriptedServer(t, func(_, path string) string {
		if path == "/upgrade" {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: foo\r\nConnection: Upgrade\r\n\r\n"
		}
		return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	})
	d := newDriver(t, Config{})
	step := &load.Step{Name: "up", HTTP: &load.HTTPRequest{URL: srv.url + "/upgrade",
		Headers: map[string]string{"Upgrade": "foo"}}}
	if r := do(d, newVU(), step); r.Status != 101 {
		t.Fatalf("upgrade: status %d class %q (%v), want 101", r.Status, r.Class, r.Err)
	}
	if r := do(d, newVU(), get(srv.url+"/next")); !r.OK() || r.NewConns != 1 {
		t.Fatalf("after a 101: class %q (%v) new conns %d, want ok on a new connection", r.Class, r.Err, r.NewConns)
	}
}

// TestIdleConnectionAnswered: a server that, after an idle timeout, sends
// an unasked 408 on an idle keep-alive connection and closes it (nginx,
// Node) must not have that 408 taken as the answer to the next request:
// the next request goes out on a new connection and gets its 200.
func TestIdleConnectionAnswered(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var conns, timedOut atomic.Int64
	stop := make(chan struct{})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			wg.Go(func() {
				defer c.Close()
				readHead(c)
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
				select { // idle timeout: an unasked 408, then close
				case <-time.After(100 * time.Millisecond):
					io.WriteString(c, "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
					c.Close()
					timedOut.Add(1)
				case <-stop:
				}
			})
		}
	})
	t.Cleanup(func() {
		close(stop)
		ln.Close()
		wg.Wait()
	})
	url := "http://" + ln.Addr().String() + "/"
	for _, m := range plainModes {
		d := newDriver(t, Config{NetHTTP: m.netHTTP})
		for i := range 2 {
			answered := conns.Load()
			if r := do(d, newVU(), get(url)); !r.OK() || r.Status != 200 {
				t.Fatalf("%s request %d: status %d class %q (%v), want 200", m.name, i, r.Status, r.Class, r.Err)
			}
			// The 408 has been sent and the connection closed (on loopback
			// the client's socket has them when the server's close returns)...
			waitUntil(t, "the server's 408", func() bool { return timedOut.Load() == answered+1 })
			// ...and the connection has sat idle long enough to be checked
			// before its next use: the behaviour under test is about time.
			time.Sleep(idleCheckAfter)
		}
	}
	if n := conns.Load(); n != 4 {
		t.Errorf("server saw %d connections, want 4 (one per request)", n)
	}
}

// TestRedirectNotFollowed: a redirect is the step's answer, as the step
// named it: not followed (k6 follows up to 10; a load step measures the
// request it was given, and a redirect to another host would bypass the
// experiment's proxy). Without expect, a 3xx counts as success; with
// expect, only if listed.
func TestRedirectNotFollowed(t *testing.T) {
	t.Parallel()
	srv := scriptedServer(t, func(_, path string) string {
		if path == "/old" {
			return "HTTP/1.1 302 Found\r\nLocation: /new\r\nContent-Length: 0\r\n\r\n"
		}
		return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	})
	for _, m := range plainModes {
		d := newDriver(t, Config{NetHTTP: m.netHTTP})
		if r := do(d, newVU(), get(srv.url+"/old")); !r.OK() || r.Status != 302 {
			t.Errorf("%s: status %d class %q, want 302 counted ok", m.name, r.Status, r.Class)
		}
		strict := &load.Step{Name: "strict", HTTP: &load.HTTPRequest{URL: srv.url + "/old", Expect: &load.HTTPExpect{Status: []int{200}}}}
		if r := do(d, newVU(), strict); r.Status != 302 || r.Class != load.ClassHTTPUnexpected {
			t.Errorf("%s with expect 200: status %d class %q, want 302 %s", m.name, r.Status, r.Class, load.ClassHTTPUnexpected)
		}
	}
	if n := srv.requests.Load(); n != 4 {
		t.Errorf("server saw %d requests, want 4 (no redirect followed)", n)
	}
}

// TestStaleOwnConnection: an iteration's own connection (newConnection)
// that the server closed during the think time is not used for the next
// step: a POST (never retried once written) goes out on a new connection
// and succeeds, and the server sees each request once.
func TestStaleOwnConnection(t *testing.T) {
	t.Parallel()
	url, served, closed := closingServer(t)
	d := newDriver(t, Config{})
	vu := newVU()
	for i, method := range []string{"GET", "POST", "POST"} {
		step := &load.Step{Name: method, HTTP: &load.HTTPRequest{Method: method, URL: url, NewConnection: true}}
		if r := do(d, vu, step); !r.OK() || r.NewConns != 1 {
			t.Fatalf("step %d (%s) after the server closed the iteration's connection: class %q (%v) new conns %d",
				i, method, r.Class, r.Err, r.NewConns)
		}
		// The server has closed the connection (on loopback the FIN is in
		// the client's socket when the server's close returns).
		waitUntil(t, "the server closed the connection", func() bool { return closed.Load() == served.Load() })
	}
	d.EndIteration(vu)
	if served.Load() != 3 {
		t.Errorf("server answered %d requests, want 3 (none sent twice)", served.Load())
	}
}
