package httpload

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chaosload/chaosload/load"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// mode is a way the driver sends a request: its own HTTP/1.1 client,
// net/http over plain HTTP, net/http over TLS (https:// URLs).
type mode struct {
	name         string
	tls, netHTTP bool
}

var (
	modes      = []mode{{"h1", false, false}, {"net-http", false, true}, {"https", true, false}}
	plainModes = modes[:2]
)

// eachMode runs f as a parallel subtest per mode.
func eachMode(t *testing.T, ms []mode, f func(t *testing.T, m mode)) {
	for _, m := range ms {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			f(t, m)
		})
	}
}

// serve starts a loopback server of the mode, closed when the test ends;
// hooks (ConnState) are set before it starts.
func (m mode) serve(tb testing.TB, h http.HandlerFunc, hooks ...func(net.Conn, http.ConnState)) *httptest.Server {
	tb.Helper()
	s := httptest.NewUnstartedServer(h)
	for _, hook := range hooks {
		s.Config.ConnState = hook
	}
	if m.tls {
		s.StartTLS()
	} else {
		s.Start()
	}
	tb.Cleanup(s.Close)
	return s
}

// driver returns a Driver of the mode for srv, closed when the test ends.
func (m mode) driver(tb testing.TB, cfg Config, srv *httptest.Server) *Driver {
	tb.Helper()
	cfg.NetHTTP = m.netHTTP
	if m.tls {
		cfg.TLS = srv.Client().Transport.(*http.Transport).TLSClientConfig
	}
	return newDriver(tb, cfg)
}

// newDriver returns a Driver closed when the test ends.
func newDriver(tb testing.TB, cfg Config) *Driver {
	tb.Helper()
	d := New(cfg)
	tb.Cleanup(d.Close)
	return d
}

// serve starts a loopback HTTP server closed when the test ends.
func serve(tb testing.TB, h http.HandlerFunc, hooks ...func(net.Conn, http.ConnState)) *httptest.Server {
	tb.Helper()
	return mode{}.serve(tb, h, hooks...)
}

// newVU returns a VU on a clock starting now.
func newVU() *load.VU {
	return &load.VU{ID: 1, Clock: load.Clock{Epoch: time.Now()}, State: map[any]any{}}
}

// do performs step once on vu as an executor would and returns the result.
func do(d *Driver, vu *load.VU, step *load.Step) load.Result {
	res := load.Result{Step: step.Name, Intended: vu.Clock.Now(), Start: -1, End: -1}
	res.Dispatched = res.Intended
	d.Do(context.Background(), vu, step, &res)
	return res
}

// waitUntil polls cond (a counter reached) until it holds; 30 s without it
// is a hang.
func waitUntil(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatalf("waited 30s for %s: a hang", what)
		}
	}
}

// closingServer serves one exchange per connection and closes it without
// saying so (no Connection: close): the client's pooled connection goes
// stale. It counts the exchanges served and the connections closed.
func closingServer(t *testing.T) (url string, served, closed *atomic.Int64) {
	served, closed = new(atomic.Int64), new(atomic.Int64)
	url = rawServer(t, func(c *net.TCPConn) {
		served.Add(1)
		c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
		c.Close()
		closed.Add(1)
	})
	return url, served, closed
}

// get is a GET step to url.
func get(url string) *load.Step {
	return &load.Step{Name: "get", HTTP: &load.HTTPRequest{URL: url}}
}

// rawServer accepts loopback connections and hands each, after its request
// head has been read, to handle; it stops and waits when the test ends.
func rawServer(tb testing.TB, handle func(c *net.TCPConn)) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				readHead(c)
				handle(c.(*net.TCPConn))
			})
		}
	})
	tb.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return "http://" + ln.Addr().String() + "/"
}

// readHead reads a request's head (up to the blank line).
func readHead(c net.Conn) {
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil || strings.TrimSpace(line) == "" {
			return
		}
	}
}
