package proxy_test

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/proxy"
)

// readErr reads from c until an error, within 5 s.
func readErr(c net.Conn) error {
	c.SetReadDeadline(time.Now().Add(hangLimit))
	buf := make([]byte, 64)
	for {
		if _, err := c.Read(buf); err != nil {
			return err
		}
	}
}

// TestResetSendsRSTAndRefusesWhileApplied: an established connection reads
// ECONNRESET (client side, and the upstream sees a reset too); a new
// connection made while the fault is applied is reset; after the revert
// connections work again.
func TestResetSendsRSTAndRefusesWhileApplied(t *testing.T) {
	up := serveTCP(t, echo)
	p := startProxy(t, proxy.Config{Name: "reset", Upstream: up.Addr()})
	established := dial(t, p.Addr())
	mustRoundTrip(t, established)

	revert, err := p.Inject(context.Background(), "reset", faults.ResetSpec{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := readErr(established); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("established connection: read error %v, want ECONNRESET", err)
	}
	select {
	case err := <-up.errs:
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("upstream side: %v, want ECONNRESET", err)
		}
	case <-time.After(hangLimit):
		t.Error("the upstream side saw no reset")
	}
	// The kernel completes the handshake and the proxy resets the
	// connection at once: the reset reaches the client in Dial or in Read.
	fresh, err := net.DialTimeout("tcp", p.Addr(), hangLimit)
	if err == nil {
		err = readErr(fresh)
		fresh.Close()
	}
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("connection made while applied: %v, want ECONNRESET", err)
	}

	if err := revert(context.Background()); err != nil {
		t.Fatal(err)
	}
	mustRoundTrip(t, dial(t, p.Addr()))
	st := p.Stats()
	if st.Reset != 1 || st.Refused != 1 || st.Faults["reset"].Selected != 2 || st.Faults["reset"].ConnsReset != 1 || st.Faults["reset"].ConnsRefused != 1 || st.Faults["reset"].Active {
		t.Errorf("stats: reset %d refused %d (want 1, 1), fault %+v (want 2 affected, reverted)",
			st.Reset, st.Refused, st.Faults["reset"])
	}
}

// TestOneShotResetOverlapsLatency: a reset injected and reverted at once
// (one-shot) while a latency fault is active resets the connections, and new
// connections then get the latency.
func TestOneShotResetOverlapsLatency(t *testing.T) {
	up := serveTCP(t, echo)
	p := startProxy(t, proxy.Config{Name: "overlap", Upstream: up.Addr()})
	ctx := context.Background()
	c := dial(t, p.Addr())
	mustRoundTrip(t, c)
	undoLatency, err := p.Inject(ctx, "lat", faults.LatencySpec{Latency: 30 * time.Millisecond}, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer undoLatency(ctx)
	undoReset, err := p.Inject(ctx, "drop", faults.ResetSpec{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := undoReset(ctx); err != nil {
		t.Fatal(err)
	}
	if err := readErr(c); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("read error %v, want ECONNRESET", err)
	}
	if d := mustRoundTrip(t, dial(t, p.Addr())); d < 25*time.Millisecond {
		t.Errorf("round trip after the reset took %v, want ≥ 30ms of latency", d)
	}
}

// TestDownRefusesAndComesBackOnTheSamePort: while down, a dial is refused and
// an active connection is closed; after the revert the same address works.
func TestDownRefusesAndComesBackOnTheSamePort(t *testing.T) {
	up := serveTCP(t, echo)
	p := startProxy(t, proxy.Config{Name: "down", Upstream: up.Addr()})
	active := dial(t, p.Addr())
	mustRoundTrip(t, active)

	revert, err := p.Inject(context.Background(), "down", faults.DownSpec{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := readErr(active); !errors.Is(err, io.EOF) {
		t.Errorf("active connection: read error %v, want EOF", err)
	}
	if _, err := net.DialTimeout("tcp", p.Addr(), hangLimit); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial while down: %v, want ECONNREFUSED", err)
	}
	if p.Stats().Listening {
		t.Error("Stats says listening while down")
	}

	if err := revert(context.Background()); err != nil {
		t.Fatal(err)
	}
	mustRoundTrip(t, dial(t, p.Addr()))
	if st := p.Stats(); !st.Listening || st.Faults["down"].ConnsReset != 1 {
		t.Errorf("stats after revert: %+v", st)
	}
}

// TestDownRevertReportsATakenPort: when another socket took the port while
// the proxy was down, the revert says so, and calling it again once the port
// is free brings the proxy back.
func TestDownRevertReportsATakenPort(t *testing.T) {
	up := serveTCP(t, echo)
	p := startProxy(t, proxy.Config{Name: "down", Upstream: up.Addr()})
	revert, err := p.Inject(context.Background(), "down", faults.DownSpec{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	thief, err := net.Listen("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	err = revert(context.Background())
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("revert with the port taken: %v, want EADDRINUSE", err)
	}
	t.Log(err)
	thief.Close()
	if err := revert(context.Background()); err != nil {
		t.Fatalf("second revert: %v", err)
	}
	mustRoundTrip(t, dial(t, p.Addr()))
}

// TestInjectRejects lists what Inject refuses, each with an error.
func TestInjectRejects(t *testing.T) {
	p := startProxy(t, proxy.Config{Name: "rejects", Upstream: "127.0.0.1:1"})
	ctx := context.Background()
	undo, err := p.Inject(ctx, "lat", faults.LatencySpec{Latency: time.Millisecond}, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer undo(ctx)
	cases := []struct {
		name     string
		fault    string
		spec     faults.Spec
		toxicity float64
	}{
		// pool exhaustion is package faults' own action, not a proxy fault.
		{"pool exhaustion", "pool", faults.PoolExhaustionSpec{}, 1},
		// names identify active faults.
		{"duplicate name", "lat", faults.ResetSpec{}, 1},
		// a fault needs a name.
		{"no name", "", faults.ResetSpec{}, 1},
		// toxicity is a share.
		{"toxicity above 1", "t", faults.ResetSpec{}, 1.5},
		// jitter cannot exceed the latency.
		{"jitter too large", "j", faults.LatencySpec{Latency: time.Millisecond, Jitter: time.Second}, 1},
		// directions are a closed set.
		{"bad direction", "d", faults.LatencySpec{Latency: time.Millisecond, Direction: "sideways"}, 1},
		// no spec at all.
		{"nil spec", "n", nil, 1},
	}
	for _, tc := range cases {
		if _, err := p.Inject(ctx, tc.fault, tc.spec, tc.toxicity); err == nil {
			t.Errorf("%s: no error", tc.name)
		} else {
			t.Logf("%s: %v", tc.name, err)
		}
	}
}
