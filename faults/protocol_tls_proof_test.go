package faults_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/chaosload/chaosload/demo"
	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/proxy"
)

// syncBuffer is a bytes.Buffer safe for the proxy's logger and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// recorder is an upstream that hands the test the first n bytes each
// connection sends it.
func recorder(t *testing.T, n int) (addr string, got <-chan []byte) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan []byte, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				b := make([]byte, n)
				if _, err := io.ReadFull(c, b); err == nil {
					ch <- b
				}
			}()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String(), ch
}

// TestProofPGTLS: while a pg fault is active, the proxy declines a
// client's SSLRequest itself ('N', the server never sees the request) so
// the session stays readable; a client that requires TLS then fails to
// connect with its own error naming TLS, rather than passing uninspected;
// and a TLS stream met on a connection (negotiated before the fault came)
// is passed on untouched, counted as uninspectable and logged as such.
func TestProofPGTLS(t *testing.T) {
	spec := faults.PGErrorSpec{Probability: 1, SQLState: "40001", Message: "x"}
	upstream, got := recorder(t, 8)
	var log syncBuffer
	p, err := proxy.Listen(proxy.Config{Name: "pg", Upstream: upstream, Seed: 1, Logger: zerolog.New(&log)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	inject(t, p, "serialize", spec)

	// 1. The SSLRequest is answered 'N' by the proxy; what reaches the
	// server first is the startup message that follows.
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	ssl := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 8), 80877103)
	if _, err := c.Write(ssl); err != nil {
		t.Fatal(err)
	}
	reply := make([]byte, 1)
	if _, err := io.ReadFull(c, reply); err != nil || reply[0] != 'N' {
		t.Fatalf("answer to SSLRequest: %q, %v; want N", reply, err)
	}
	startup := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 9), 196608)
	startup = append(startup, 0)
	if _, err := c.Write(startup); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-got:
		if !bytes.Equal(b, startup[:8]) {
			t.Fatalf("the server got %x first, want the startup message %x (the SSLRequest must not reach it)", b, startup[:8])
		}
	case <-time.After(30 * time.Second): // a hang
		t.Fatal("the startup message never reached the server")
	}

	// 2. A TLS record on a connection: passed on as it is, counted, logged.
	tc, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	record := []byte{0x16, 0x03, 0x01, 0x00, 0x03, 'a', 'b', 'c'}
	if _, err := tc.Write(record); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-got:
		if !bytes.Equal(b, record) {
			t.Fatalf("the server got %x, want the TLS record %x passed on", b, record)
		}
	case <-time.After(30 * time.Second): // a hang
		t.Fatal("the TLS record never reached the server")
	}
	if n := p.Stats().Faults["serialize"].Uninspectable; n != 1 {
		t.Errorf("Uninspectable = %d, want 1", n)
	}
	if l := log.String(); !strings.Contains(l, "cannot inspect") || !strings.Contains(l, "TLS") {
		t.Errorf("no error naming TLS in the proxy's log:\n%s", l)
	}

	// 3. A client requiring TLS fails to connect, with an error naming TLS.
	pg, _ := servers(t)
	real := startProxy(t, "pg-real", pg.Addr())
	inject(t, real, "serialize", spec)
	dsn := strings.Replace(demo.PostgresDSN(real.Addr(), demo.ShopRole, demo.ShopDatabase), "sslmode=disable", "sslmode=require", 1)
	cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer ccancel()
	conn, err := pgx.Connect(cctx, dsn)
	if err == nil {
		conn.Close(cctx)
		t.Fatal("sslmode=require connected through the inspecting proxy; want a TLS error")
	}
	if !strings.Contains(err.Error(), "TLS") {
		t.Errorf("sslmode=require: %v; want an error naming TLS", err)
	}
}
