package faults_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chaosload/chaosload/faults"
)

// arrivals is an HTTP server that records when each request reached it, by
// its X-Seq header: it tells a held request from a held response.
type arrivals struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

func (a *arrivals) at(seq string) time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.seen[seq]
}

func startArrivals(t *testing.T) (*arrivals, *httptest.Server) {
	t.Helper()
	a := &arrivals{seen: map[string]time.Time{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.seen[r.Header.Get("X-Seq")] = time.Now()
		a.mu.Unlock()
		if r.URL.Path == "/slow/stream" {
			// A streamed (chunked) response: three parts, flushed apart.
			for i := range 3 {
				fmt.Fprintf(w, "part %d;", i)
				w.(http.Flusher).Flush()
				time.Sleep(20 * time.Millisecond)
			}
			return
		}
		io.WriteString(w, "ok "+r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	return a, srv
}

// TestProofHTTPDelay: net/http sees a matching request's answer late by the
// latency, held where direction says: upstream the request reaches the
// server late; downstream it reaches the server at once and its response
// comes late; both, each way. Requests that do not match are not held,
// streamed (chunked) responses arrive whole, keep-alive connections are
// reused throughout, and the proxy counts each held request once (which
// also shows that requests that do not match, or come after the revert,
// are not held: a timed bound would be at the mercy of a busy machine).
func TestProofHTTPDelay(t *testing.T) {
	const lat = 400 * time.Millisecond
	a, srv := startArrivals(t)
	upstream := strings.TrimPrefix(srv.URL, "http://")
	var seq atomic.Int64
	for _, tc := range []struct {
		dir     faults.Direction
		reqHeld bool // the request reaches the server ≥ lat late
		total   time.Duration
	}{
		{faults.Upstream, true, lat},
		{faults.Downstream, false, lat},
		{faults.Both, true, 2 * lat},
	} {
		t.Run(string(tc.dir), func(t *testing.T) {
			p := startProxy(t, "api", upstream)
			revert := inject(t, p, "slow", faults.RequestDelaySpec{Protocol: "http", Probability: 1, Latency: lat,
				Match: faults.Match{Method: "GET", Path: "/slow/*"}, Direction: tc.dir})
			var conns atomic.Int32
			trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) {
				if !i.Reused {
					conns.Add(1)
				}
			}}
			client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
			t.Cleanup(client.CloseIdleConnections)
			// get returns the body, when the server saw the request and
			// when the whole response was read, both from the send.
			get := func(path string) (body string, reached, total time.Duration) {
				s := fmt.Sprint(seq.Add(1))
				req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace),
					"GET", "http://"+p.Addr()+path, nil)
				req.Header.Set("X-Seq", s)
				start := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					t.Fatalf("GET %s: %v", path, err)
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 {
					t.Fatalf("GET %s: %d, %v", path, resp.StatusCode, err)
				}
				return string(b), a.at(s).Sub(start), time.Since(start)
			}
			for i := range 3 {
				body, reached, total := get("/slow/x")
				if body != "ok /slow/x" {
					t.Fatalf("matching GET: body %q", body)
				}
				if total < tc.total {
					t.Errorf("round %d: matching request answered in %v, want ≥ %v", i, total, tc.total)
				}
				if held := reached >= lat; held != tc.reqHeld {
					t.Errorf("round %d: matching request reached the server after %v; held upstream = %v, want %v",
						i, reached, held, tc.reqHeld)
				}
				held := p.Stats().Faults["slow"].RequestsDelayed
				if get("/fast"); p.Stats().Faults["slow"].RequestsDelayed != held {
					t.Errorf("round %d: GET /fast (no match) was held", i)
				}
			}
			body, _, total := get("/slow/stream")
			if body != "part 0;part 1;part 2;" {
				t.Errorf("streamed response through the delay: %q", body)
			}
			if total < tc.total {
				t.Errorf("streamed matching response in %v, want ≥ %v", total, tc.total)
			}
			if n := conns.Load(); n != 1 {
				t.Errorf("%d connections for 7 requests, want 1 (keep-alive reused)", n)
			}
			// Each held request counts once, whichever way it was held.
			st := p.Stats().Faults["slow"]
			if st.RequestsDelayed != 4 {
				t.Errorf("requests counted as delayed = %d, want 4", st.RequestsDelayed)
			}
			if st.InjectedDelay != 4*tc.total { // no jitter: every hold is the latency
				t.Errorf("injected delay %v over 4 held requests, want 4 × %v", st.InjectedDelay, tc.total)
			}
			revert()
			if get("/slow/x"); p.Stats().Faults["slow"].RequestsDelayed != st.RequestsDelayed {
				t.Errorf("after the revert a matching request was held")
			}
		})
	}
}

// TestHTTPDelayDirectionChecked: a direction other than upstream,
// downstream or both is refused where the file says it, and only http-delay
// takes one.
func TestHTTPDelayDirectionChecked(t *testing.T) {
	for _, tc := range []struct {
		f    faults.Fault
		want string // "" when valid
	}{
		{faults.Fault{Name: "d", Target: "t", Kind: faults.HTTPDelay, Latency: time.Second, Direction: faults.Downstream}, ""},
		{faults.Fault{Name: "d", Target: "t", Kind: faults.HTTPDelay, Latency: time.Second, Direction: "response"}, "direction"},
		{faults.Fault{Name: "d", Target: "t", Kind: faults.PGDelay, Latency: time.Second, Direction: faults.Downstream}, "direction"},
	} {
		var fields []string
		for _, p := range tc.f.Validate() {
			fields = append(fields, p.Field)
		}
		if got := strings.Join(fields, ","); got != tc.want {
			t.Errorf("%s direction %q: problems in %q, want %q", tc.f.Kind, tc.f.Direction, got, tc.want)
		}
	}
}
