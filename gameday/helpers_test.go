package gameday

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/proxy"
	"github.com/rs/zerolog"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// echoServer is a TCP upstream that echoes every byte back; the test stops
// it and every connection it accepted.
func echoServer(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]struct{}{}
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = struct{}{}
			mu.Unlock()
			wg.Go(func() { _, _ = io.Copy(c, c); _ = c.Close() })
		}
	})
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		for c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return l.Addr().String()
}

// okServer is an HTTP upstream answering every request at once.
func okServer(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// experiment parses an inline experiment with ${UP} set to upstream.
func experiment(t testing.TB, upstream, yaml string) *config.Experiment {
	t.Helper()
	env := func(name string) (string, bool) {
		if name == "UP" {
			return upstream, true
		}
		return "", false
	}
	exp, err := config.Parse(t.Name()+".yaml", []byte(yaml), config.Options{LookupEnv: env, NoScenariosOK: true})
	if err != nil {
		t.Fatalf("parse:\n%v", err)
	}
	return exp
}

// session starts a game day on exp and serves its handler on a loopback
// port; both are stopped by the test.
func session(t testing.TB, exp *config.Experiment, cfg Config) (*Session, *httptest.Server) {
	t.Helper()
	if cfg.Version == "" {
		cfg.Version = "test"
	}
	cfg.Logger = zerolog.Nop()
	s, err := Start(context.Background(), exp, cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
		srv.CloseClientConnections()
		srv.Close()
	})
	return s, srv
}

// roundTrip sends one line through addr on a fresh connection and returns
// how long the echo took.
func roundTrip(t testing.TB, addr string) (time.Duration, error) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 30*time.Second) // only a hang takes this long
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return echoOn(c)
}

// echoOn sends "ping\n" on c and waits for it to come back.
func echoOn(c net.Conn) (time.Duration, error) {
	_ = c.SetDeadline(time.Now().Add(30 * time.Second)) // only a hang takes this long
	start := time.Now()
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return 0, err
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(c, buf); err != nil {
		return time.Since(start), err
	}
	return time.Since(start), nil
}

// mustRoundTripUnheld does one echo round trip through p on a fresh
// connection and fails the test if a fault of p held any of its bytes: no
// fault is in effect for new connections (a timed bound would be at the
// mercy of a busy machine).
func mustRoundTripUnheld(t testing.TB, p *proxy.Proxy) {
	t.Helper()
	before := heldChunks(p)
	mustRoundTrip(t, p.Addr())
	if after := heldChunks(p); after != before {
		t.Fatalf("a fault of proxy %s held %d chunks of a round trip on a new connection", p.Addr(), after-before)
	}
}

// heldChunks is how many chunks the faults of p have held so far.
func heldChunks(p *proxy.Proxy) int64 {
	var n int64
	for _, f := range p.Stats().Faults {
		n += f.ChunksDelayed
	}
	return n
}

// isReset reports whether err is a TCP reset.
func isReset(err error) bool { return errors.Is(err, syscall.ECONNRESET) }

const tcpOnly = `
version: 1
name: gameday-tcp
targets:
  echo: {upstream: "${UP}"}
`
