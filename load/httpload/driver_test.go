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
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.URL.Query().Get("code"))
		w.WriteHeader(code)
		io.WriteString(w, "body")
	})
	d := newDriver(t, Config{})
	tests := []struct {
		code  int
		class string
	}{
		{200, ""},                // success
		{204, ""},                // success without a body
		{404, load.ClassHTTP4xx}, // client error
		{429, load.ClassHTTP4xx}, // rate limited is a 4xx too
		{500, load.ClassHTTP5xx}, // a server failure
		{502, load.ClassHTTP5xx}, // every 5xx but 503
		{503, load.ClassHTTP503}, // the graceful refusal, its own class
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.code), func(t *testing.T) {
			t.Parallel()
			r := do(d, newVU(), get(srv.URL+"/?code="+strconv.Itoa(tt.code)))
			if r.Class != tt.class || r.Status != tt.code || (tt.class == "") != (r.Err == nil) {
				t.Fatalf("status %d: class %q err %v, want class %q", r.Status, r.Class, r.Err, tt.class)
			}
			if r.Start < r.Intended || r.End < r.Start {
				t.Fatalf("times out of order: %+v", r)
			}
		})
	}
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
	r := do(newDriver(t, Config{}), newVU(), get("http://"+addr+"/"))
	if r.Class != load.ClassConnRefused {
		t.Fatalf("class %q (%v), want conn_refused", r.Class, r.Err)
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
	r := do(newDriver(t, Config{}), newVU(), get(url))
	if r.Class != load.ClassConnReset {
		t.Fatalf("class %q (%v), want conn_reset", r.Class, r.Err)
	}
}

// TestConnClosedBeforeResponse: a server that closes (FIN) without a
// response is conn_reset too: the connection was dropped under the request.
func TestConnClosedBeforeResponse(t *testing.T) {
	t.Parallel()
	url := rawServer(t, func(c *net.TCPConn) { c.Close() })
	r := do(newDriver(t, Config{}), newVU(), get(url))
	if r.Class != load.ClassConnReset {
		t.Fatalf("class %q (%v), want conn_reset", r.Class, r.Err)
	}
}

// TestTimeout: a server slower than the step's timeout is a timeout, cut at
// the timeout.
func TestTimeout(t *testing.T) {
	t.Parallel()
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	step := get(srv.URL)
	step.HTTP.Timeout = 100 * time.Millisecond
	r := do(newDriver(t, Config{}), newVU(), step)
	if r.Class != load.ClassTimeout {
		t.Fatalf("class %q (%v), want timeout", r.Class, r.Err)
	}
	if took := r.End - r.Intended; took < 100*time.Millisecond || took > time.Second {
		t.Fatalf("took %v, want about the 100ms timeout", took)
	}
}

// TestTimeoutWhileReadingBody: a body that stalls past the timeout is a
// timeout, with the status already received kept.
func TestTimeoutWhileReadingBody(t *testing.T) {
	t.Parallel()
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	step := get(srv.URL)
	step.HTTP.Timeout = 100 * time.Millisecond
	r := do(newDriver(t, Config{}), newVU(), step)
	if r.Class != load.ClassTimeout || r.Status != 200 || r.BytesIn != int64(len("partial")) {
		t.Fatalf("class %q status %d bytes %d (%v), want a timeout after 200 and 7 bytes", r.Class, r.Status, r.BytesIn, r.Err)
	}
}

// TestRequestBuilt: method defaults to GET; headers are sent; `json` is
// encoded with Content-Type application/json; `body` goes as is; a Host
// header sets the request's host; bytes are counted both ways.
func TestRequestBuilt(t *testing.T) {
	t.Parallel()
	type seen struct {
		Method, ContentType, Header, Host, Body string
	}
	var got sync.Map // path → seen
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.Store(r.URL.Path, seen{r.Method, r.Header.Get("Content-Type"), r.Header.Get("X-Test"), r.Host, string(b)})
		io.WriteString(w, "four")
	})
	d := newDriver(t, Config{})
	host := strings.TrimPrefix(srv.URL, "http://")
	tests := []struct {
		name string
		req  load.HTTPRequest
		want seen
	}{
		// no method: GET, no body, headers sent
		{"get", load.HTTPRequest{Headers: map[string]string{"X-Test": "1"}}, seen{"GET", "", "1", host, ""}},
		// json: encoded, typed
		{"json", load.HTTPRequest{Method: "POST", JSON: map[string]any{"product": 1, "qty": 2}},
			seen{"POST", "application/json", "", host, `{"product":1,"qty":2}`}},
		// body: as is, with the caller's content type
		{"body", load.HTTPRequest{Method: "PUT", Body: "a=1", Headers: map[string]string{"Content-Type": "text/plain"}},
			seen{"PUT", "text/plain", "", host, "a=1"}},
		// a Host header is the request's host (virtual hosting through a proxy)
		{"host", load.HTTPRequest{Headers: map[string]string{"Host": "shop.example"}}, seen{"GET", "", "", "shop.example", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := tt.req
			req.URL = srv.URL + "/" + tt.name
			r := do(d, newVU(), &load.Step{Name: tt.name, HTTP: &req})
			if !r.OK() {
				t.Fatalf("failed: %v", r.Err)
			}
			if s, _ := got.Load("/" + tt.name); s != tt.want {
				t.Errorf("server saw %+v, want %+v", s, tt.want)
			}
			if r.BytesOut != int64(len(tt.want.Body)) || r.BytesIn != 4 {
				t.Errorf("bytes out %d in %d, want %d and 4", r.BytesOut, r.BytesIn, len(tt.want.Body))
			}
		})
	}
}

// TestBadRequest: a step whose request cannot be built fails as class
// error, without sending anything.
func TestBadRequest(t *testing.T) {
	t.Parallel()
	d := newDriver(t, Config{})
	for _, step := range []*load.Step{
		{Name: "no http"},
		{Name: "bad url", HTTP: &load.HTTPRequest{URL: "::not a url"}},
		{Name: "bad json", HTTP: &load.HTTPRequest{URL: "http://127.0.0.1:1/", JSON: func() {}}},
	} {
		if r := do(d, newVU(), step); r.Class != load.ClassOther || r.Err == nil {
			t.Errorf("%s: class %q err %v, want class error", step.Name, r.Class, r.Err)
		}
	}
}

// TestEndAfterBody: End is taken once the whole body has been read.
func TestEndAfterBody(t *testing.T) {
	t.Parallel()
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Repeat("x", 1000))
		w.(http.Flusher).Flush()
		time.Sleep(150 * time.Millisecond)
		io.WriteString(w, "end")
	})
	r := do(newDriver(t, Config{}), newVU(), get(srv.URL))
	if !r.OK() || r.BytesIn != 1003 || r.ServiceTime() < 150*time.Millisecond {
		t.Fatalf("class %q bytes %d service %v, want 1003 bytes over >= 150ms", r.Class, r.BytesIn, r.ServiceTime())
	}
}
