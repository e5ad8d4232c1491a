package httpload

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chaosload/chaosload/load"
)

func TestStatusClasses(t *testing.T) {
	t.Parallel()
	eachMode(t, modes, func(t *testing.T, m mode) {
		srv := m.serve(t, func(w http.ResponseWriter, r *http.Request) {
			code, _ := strconv.Atoi(r.URL.Query().Get("code"))
			if code == 302 {
				w.Header().Set("Location", "/elsewhere")
			}
			w.WriteHeader(code)
			io.WriteString(w, "body")
		})
		d := m.driver(t, Config{}, srv)
		tests := []struct {
			code  int
			class string
		}{
			{200, ""},                // success
			{204, ""},                // success without a body
			{302, ""},                // a redirect is the response, not followed
			{404, load.ClassHTTP4xx}, // client error
			{429, load.ClassHTTP429}, // rate limited: a class of its own
			{500, load.ClassHTTP5xx}, // a server failure
			{502, load.ClassHTTP5xx}, // every 5xx but 503
			{503, load.ClassHTTP503}, // the graceful refusal, its own class
		}
		for _, tt := range tests {
			r := do(d, newVU(), get(srv.URL+"/?code="+strconv.Itoa(tt.code)))
			if r.Class != tt.class || r.Status != tt.code || (tt.class == "") != (r.Err == nil) {
				t.Fatalf("status %d: class %q err %v, want class %q", r.Status, r.Class, r.Err, tt.class)
			}
			if r.Start < r.Intended || r.End < r.Start {
				t.Fatalf("times out of order: %+v", r)
			}
		}
	})
}

// TestExpectStatus: expect.status lists the successes; an unlisted status
// keeps its class from 400 on, and is http_unexpected below.
func TestExpectStatus(t *testing.T) {
	t.Parallel()
	eachMode(t, modes, func(t *testing.T, m mode) {
		srv := m.serve(t, func(w http.ResponseWriter, r *http.Request) {
			code, _ := strconv.Atoi(r.URL.Query().Get("code"))
			w.WriteHeader(code)
		})
		d := m.driver(t, Config{}, srv)
		tests := []struct {
			code   int
			expect []int
			class  string
		}{
			{201, []int{201}, ""},                       // listed: success
			{404, []int{200, 404}, ""},                  // a listed 4xx is a success too
			{200, []int{201}, load.ClassHTTPUnexpected}, // a 2xx not listed
			{302, []int{200}, load.ClassHTTPUnexpected}, // a redirect not listed
			{500, []int{200}, load.ClassHTTP5xx},        // an unlisted 5xx stays a 5xx
			{503, []int{200, 201}, load.ClassHTTP503},   // and a 503 a 503
			{409, []int{201}, load.ClassHTTP4xx},        // an unlisted 4xx a 4xx
			{429, []int{200}, load.ClassHTTP429},        // and an unlisted 429 a 429
		}
		for _, tt := range tests {
			step := get(srv.URL + "/?code=" + strconv.Itoa(tt.code))
			step.HTTP.Expect = &load.HTTPExpect{Status: tt.expect}
			r := do(d, newVU(), step)
			if r.Class != tt.class || r.Status != tt.code {
				t.Errorf("status %d expecting %v: class %q (%v), want %q", tt.code, tt.expect, r.Class, r.Err, tt.class)
			}
			if tt.class != "" && !strings.Contains(r.Err.Error(), "want one of") {
				t.Errorf("error %q does not say what was expected", r.Err)
			}
		}
	})
}

// TestConnRefused: a closed port is conn_refused.
func TestConnRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	for _, m := range plainModes {
		r := do(newDriver(t, Config{NetHTTP: m.netHTTP}), newVU(), get("http://"+addr+"/"))
		if r.Class != load.ClassConnRefused || r.NewConns != 0 {
			t.Fatalf("%s: class %q (%v) new conns %d, want conn_refused and none", m.name, r.Class, r.Err, r.NewConns)
		}
	}
}

// TestConnReset: a server that answers a request with RST (SetLinger(0) and
// Close) is conn_reset.
func TestConnReset(t *testing.T) {
	t.Parallel()
	url := rawServer(t, func(c *net.TCPConn) {
		c.SetLinger(0)
		c.Close()
	})
	for _, m := range plainModes {
		r := do(newDriver(t, Config{NetHTTP: m.netHTTP}), newVU(), get(url))
		if r.Class != load.ClassConnReset {
			t.Fatalf("%s: class %q (%v), want conn_reset", m.name, r.Class, r.Err)
		}
	}
}

// TestConnClosedBeforeResponse: a server that closes (FIN) without a
// response is conn_reset too: the connection was dropped under the request.
func TestConnClosedBeforeResponse(t *testing.T) {
	t.Parallel()
	url := rawServer(t, func(c *net.TCPConn) { c.Close() })
	for _, m := range plainModes {
		r := do(newDriver(t, Config{NetHTTP: m.netHTTP}), newVU(), get(url))
		if r.Class != load.ClassConnReset {
			t.Fatalf("%s: class %q (%v), want conn_reset", m.name, r.Class, r.Err)
		}
	}
}

// TestMalformedResponse: a response that is not HTTP is class error.
func TestMalformedResponse(t *testing.T) {
	t.Parallel()
	url := rawServer(t, func(c *net.TCPConn) {
		io.WriteString(c, "SSH-2.0-OpenSSH\r\n\r\n")
		c.Close()
	})
	for _, m := range plainModes {
		r := do(newDriver(t, Config{NetHTTP: m.netHTTP}), newVU(), get(url))
		if r.Class != load.ClassOther {
			t.Fatalf("%s: class %q (%v), want error", m.name, r.Class, r.Err)
		}
	}
}

// TestTimeout: a server slower than the step's timeout is a timeout, cut at
// the timeout.
func TestTimeout(t *testing.T) {
	t.Parallel()
	eachMode(t, modes, func(t *testing.T, m mode) {
		// The server answers after 30 s: a request not cut at its timeout
		// would end then, as a success.
		srv := m.serve(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(30 * time.Second):
			}
		})
		step := get(srv.URL)
		step.HTTP.Timeout = 100 * time.Millisecond
		r := do(m.driver(t, Config{}, srv), newVU(), step)
		if r.Class != load.ClassTimeout {
			t.Fatalf("class %q (%v), want timeout", r.Class, r.Err)
		}
		if took := r.End - r.Intended; took < 100*time.Millisecond {
			t.Fatalf("took %v, want at least the 100ms timeout", took)
		}
	})
}

// TestTimeoutWhileReadingBody: a body that stalls past the timeout is a
// timeout, with the status already received kept. The body never ends
// (the server waits for the request to go away), and the timeout (3 s) only
// has to cover a request on a connection already made (a first request
// dials it and does the TLS handshake) up to the status: far more than that
// takes on any machine.
func TestTimeoutWhileReadingBody(t *testing.T) {
	t.Parallel()
	eachMode(t, modes, func(t *testing.T, m mode) {
		srv := m.serve(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/warm" {
				return
			}
			io.WriteString(w, "partial")
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		})
		d := m.driver(t, Config{}, srv)
		if r := do(d, newVU(), get(srv.URL+"/warm")); !r.OK() {
			t.Fatalf("warm-up request: class %q (%v)", r.Class, r.Err)
		}
		step := get(srv.URL + "/stall")
		step.HTTP.Timeout = 3 * time.Second
		r := do(d, newVU(), step)
		if r.Class != load.ClassTimeout || r.Status != 200 || r.BytesIn != int64(len("partial")) {
			t.Fatalf("class %q status %d bytes %d (%v), want a timeout after 200 and 7 bytes", r.Class, r.Status, r.BytesIn, r.Err)
		}
	})
}

// TestRequestBuilt: method defaults to GET; headers are sent; `json` is
// encoded with Content-Type application/json; `body` goes as is; a Host
// header sets the request's host; bytes are counted both ways.
func TestRequestBuilt(t *testing.T) {
	t.Parallel()
	eachMode(t, modes, func(t *testing.T, m mode) {
		type seen struct {
			Method, ContentType, Header, Host, Body, Agent string
		}
		var got sync.Map // path → seen
		srv := m.serve(t, func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			got.Store(r.URL.Path, seen{r.Method, r.Header.Get("Content-Type"), r.Header.Get("X-Test"), r.Host, string(b), r.UserAgent()})
			io.WriteString(w, "four")
		})
		d := m.driver(t, Config{}, srv)
		host := srv.Listener.Addr().String()
		tests := []struct {
			name string
			req  load.HTTPRequest
			want seen
		}{
			// no method: GET, no body, headers sent
			{"get", load.HTTPRequest{Headers: map[string]string{"x-test": "1"}}, seen{"GET", "", "1", host, "", "chaosload"}},
			// json: encoded, typed, keys sorted, <&> as written
			{"json", load.HTTPRequest{Method: "POST", JSON: map[string]any{"qty": 2, "product": "<a&b>"}},
				seen{"POST", "application/json", "", host, `{"product":"<a&b>","qty":2}`, "chaosload"}},
			// body: as is, with the caller's content type
			{"body", load.HTTPRequest{Method: "PUT", Body: "a=1", Headers: map[string]string{"Content-Type": "text/plain"}},
				seen{"PUT", "text/plain", "", host, "a=1", "chaosload"}},
			// a Host header is the request's host (virtual hosting through a proxy)
			{"host", load.HTTPRequest{Headers: map[string]string{"Host": "shop.example"}}, seen{"GET", "", "", "shop.example", "", "chaosload"}},
			// a POST without a body
			{"empty", load.HTTPRequest{Method: "POST"}, seen{"POST", "", "", host, "", "chaosload"}},
		}
		for _, tt := range tests {
			req := tt.req
			req.URL = srv.URL + "/" + tt.name
			r := do(d, newVU(), &load.Step{Name: tt.name, HTTP: &req})
			if !r.OK() {
				t.Fatalf("%s failed: %v", tt.name, r.Err)
			}
			if s, _ := got.Load("/" + tt.name); s != tt.want {
				t.Errorf("server saw %+v, want %+v", s, tt.want)
			}
			if r.BytesOut != int64(len(tt.want.Body)) || r.BytesIn != 4 {
				t.Errorf("%s: bytes out %d in %d, want %d and 4", tt.name, r.BytesOut, r.BytesIn, len(tt.want.Body))
			}
		}
	})
}

// TestBadRequest: a step whose request cannot be built fails as class
// error, without sending anything.
func TestBadRequest(t *testing.T) {
	t.Parallel()
	d := newDriver(t, Config{})
	for _, step := range []*load.Step{
		{Name: "no http"},
		{Name: "bad url", HTTP: &load.HTTPRequest{URL: "::not a url"}},
		{Name: "not http", HTTP: &load.HTTPRequest{URL: "ftp://127.0.0.1/"}},
		{Name: "bad json", HTTP: &load.HTTPRequest{URL: "http://127.0.0.1:1/", JSON: func() {}}},
		{Name: "two bodies", HTTP: &load.HTTPRequest{URL: "http://127.0.0.1:1/", Body: "a", BodySize: 10}},
		{Name: "no such file", HTTP: &load.HTTPRequest{URL: "http://127.0.0.1:1/", BodyFile: "/nonexistent"}},
		{Name: "bad template", HTTP: &load.HTTPRequest{URL: "http://127.0.0.1:1/${random.int(2,1)}"}},
		{Name: "unset var", HTTP: &load.HTTPRequest{URL: "http://127.0.0.1:1/${vu.token}"}},
		{Name: "set by chaosload", HTTP: &load.HTTPRequest{URL: "http://127.0.0.1:1/", Headers: map[string]string{"content-length": "3"}}},
	} {
		if r := do(d, newVU(), step); r.Class != load.ClassOther || r.Err == nil || r.NewConns != 0 {
			t.Errorf("%s: class %q err %v, want class error", step.Name, r.Class, r.Err)
		}
	}
}

// TestEndAfterBody: End is taken once the whole body has been read, chunked
// or not.
func TestEndAfterBody(t *testing.T) {
	t.Parallel()
	eachMode(t, modes, func(t *testing.T, m mode) {
		srv := m.serve(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/sized" {
				w.Header().Set("Content-Length", "1003")
			}
			io.WriteString(w, strings.Repeat("x", 1000))
			w.(http.Flusher).Flush()
			time.Sleep(150 * time.Millisecond)
			io.WriteString(w, "end")
		})
		d := m.driver(t, Config{}, srv)
		for _, path := range []string{"/chunked", "/sized"} {
			r := do(d, newVU(), get(srv.URL+path))
			if !r.OK() || r.BytesIn != 1003 || r.ServiceTime() < 150*time.Millisecond {
				t.Fatalf("%s: class %q bytes %d service %v, want 1003 bytes over >= 150ms", path, r.Class, r.BytesIn, r.ServiceTime())
			}
		}
	})
}

// TestBodyUntilClose: a response without length or chunking ends when the
// server closes the connection; the next request dials again.
func TestBodyUntilClose(t *testing.T) {
	t.Parallel()
	url := rawServer(t, func(c *net.TCPConn) {
		io.WriteString(c, "HTTP/1.1 200 OK\r\n\r\nuntil the end")
		c.Close()
	})
	for _, m := range plainModes {
		d := newDriver(t, Config{NetHTTP: m.netHTTP})
		for i := range 2 {
			r := do(d, newVU(), get(url))
			if !r.OK() || r.BytesIn != int64(len("until the end")) || r.NewConns != 1 {
				t.Fatalf("%s request %d: class %q (%v) bytes %d new conns %d", m.name, i, r.Class, r.Err, r.BytesIn, r.NewConns)
			}
		}
	}
}
