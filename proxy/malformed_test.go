package proxy_test

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/proxy"
)

// recorder is an upstream that keeps what each connection sent, and plays a
// PostgreSQL server's part just enough to answer a Sync with ReadyForQuery.
type recorder struct {
	mu  sync.Mutex
	got []*bytes.Buffer
}

func (r *recorder) handle(s *server, c net.Conn) {
	var buf bytes.Buffer
	r.mu.Lock()
	r.got = append(r.got, &buf)
	r.mu.Unlock()
	b := make([]byte, 4096)
	for {
		n, err := c.Read(b)
		r.mu.Lock()
		buf.Write(b[:n])
		r.mu.Unlock()
		if bytes.Contains(b[:n], []byte("S\x00\x00\x00\x04")) {
			c.Write([]byte("Z\x00\x00\x00\x05I"))
		}
		if err != nil {
			return
		}
	}
}

// received reports whether some connection sent exactly want.
func (r *recorder) received(want []byte) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range r.got {
		if bytes.Equal(b.Bytes(), want) {
			return true
		}
	}
	return false
}

// TestMalformedStreamsKeepProxyServing sends the inputs the fuzz targets
// found crashing a codec (kept in testdata/fuzz) through a real proxy with
// the protocol's error fault: the proxy gives that connection up (counted
// as uninspectable, its bytes passed on untouched) and goes on serving —
// the next connection's request still gets the fault's answer.
func TestMalformedStreamsKeepProxyServing(t *testing.T) {
	for _, tc := range []struct {
		name   string
		spec   faults.Spec
		bad    []byte // what crashed the codec before it was fixed
		good   []byte // a request the fault answers
		answer string // how the proxy's answer starts
	}{
		{ // testdata/fuzz/FuzzPGUp/crash-sync-length: a Sync announcing a body
			name: "pg-sync-length", spec: faults.PGErrorSpec{Probability: 1, SQLState: "40001", Message: "injected"},
			bad:  []byte("S0000"),
			good: []byte("Q\x00\x00\x00\x0dselect 1\x00"), answer: "E",
		},
		{ // testdata/fuzz/FuzzRedisUp/crash-bulk-length-overflow: a bulk length near 2⁶³
			name: "redis-bulk-overflow", spec: faults.RedisErrorSpec{Probability: 1, Message: "ERR injected"},
			bad:  []byte("*1\r\n$9223372036854775807\r\nGET\r\n"),
			good: []byte("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"), answer: "-ERR injected\r\n",
		},
		{ // testdata/fuzz/FuzzHTTPUp/overflow-chunk-size: a chunk size near 2⁶³ misframed the body
			name: "http-chunk-overflow", spec: faults.HTTPErrorSpec{Match: faults.Match{Path: "/a"}, Probability: 1, Status: 503},
			bad:  []byte("POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n7fffffffffffffff\r\nmore"),
			good: []byte("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"), answer: "HTTP/1.1 503 ",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			up := serveTCP(t, rec.handle)
			p := startProxy(t, proxy.Config{Name: tc.name, Upstream: up.Addr(), Seed: 1})
			inject(t, p, "err", tc.spec)

			bad := dial(t, p.Addr())
			if _, err := bad.Write(tc.bad); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the upstream gets the bytes untouched", func() bool { return rec.received(tc.bad) })
			eventually(t, "the connection counted as uninspectable", func() bool {
				return p.Stats().Faults["err"].Uninspectable == 1
			})

			c := dial(t, p.Addr())
			c.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := c.Write(tc.good); err != nil {
				t.Fatal(err)
			}
			got := make([]byte, len(tc.answer))
			if _, err := io.ReadFull(c, got); err != nil || string(got) != tc.answer {
				t.Fatalf("next connection: got %q (%v), want the fault's answer %q", got, err, tc.answer)
			}
			if n := p.Stats().Faults["err"].RequestsErrored; n != 1 {
				t.Errorf("injected %d errors, want 1", n)
			}
		})
	}
}

// TestTLSPassesProtocolFaults: a client speaking TLS through a target with
// an HTTP or Redis error fault completes its handshake and is served by the
// real server (the proxy cannot read its requests, says so, and counts the
// connection as uninspectable) instead of waiting for ever on a ClientHello
// the parser held while looking for a line end.
func TestTLSPassesProtocolFaults(t *testing.T) {
	t.Run("http", func(t *testing.T) {
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "real")
		}))
		t.Cleanup(srv.Close)
		p := startProxy(t, proxy.Config{Name: "https", Upstream: srv.Listener.Addr().String(), Seed: 1})
		inject(t, p, "err", faults.HTTPErrorSpec{Probability: 1, Status: 503})
		client := srv.Client()
		client.Timeout = 10 * time.Second
		t.Cleanup(client.CloseIdleConnections)
		rsp, err := client.Get("https://" + p.Addr() + "/a")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(rsp.Body)
		rsp.Body.Close()
		if rsp.StatusCode != http.StatusOK || string(body) != "real" {
			t.Fatalf("got %d %q, want the server's 200 \"real\"", rsp.StatusCode, body)
		}
		if n := p.Stats().Faults["err"].Uninspectable; n != 1 {
			t.Errorf("uninspectable: %d, want 1", n)
		}
	})
	t.Run("redis", func(t *testing.T) {
		srv := httptest.NewUnstartedServer(nil) // only for its certificate
		srv.StartTLS()
		cert := srv.TLS.Certificates[0]
		pool := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
		srv.Close()
		up := serveTCP(t, func(s *server, c net.Conn) { // a TLS echo server
			tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}})
			io.Copy(tc, tc)
		})
		p := startProxy(t, proxy.Config{Name: "rediss", Upstream: up.Addr(), Seed: 1})
		inject(t, p, "err", faults.RedisErrorSpec{Probability: 1, Message: "ERR injected"})
		raw := dial(t, p.Addr())
		c := tls.Client(raw, &tls.Config{RootCAs: pool, ServerName: "example.com"})
		if _, err := roundTrip(c, []byte("*1\r\n$4\r\nPING\r\n")); err != nil {
			t.Fatalf("round trip over TLS: %v", err)
		}
		if n := p.Stats().Faults["err"].Uninspectable; n != 1 {
			t.Errorf("uninspectable: %d, want 1", n)
		}
	})
}
