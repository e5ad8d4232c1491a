package proxy_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/proxy"
)

// TestRunReturnsWithEverythingClosed cancels Run while the proxy has a
// back-pressured connection, a connection on a latency pipeline with data
// queued for an hour, and a connection still dialling a black-holed
// upstream (for a minute). Run must return without waiting for either (a
// hang is caught at hangLimit, well before them), and no goroutine of
// package proxy may be left.
func TestRunReturnsWithEverythingClosed(t *testing.T) {
	up := serveTCP(t, floodOrEcho)
	p, err := proxy.Listen(proxy.Config{Name: "lifecycle", Upstream: up.Addr(), DialTimeout: time.Minute,
		Dial: blackHoleDial})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()

	stuck := dial(t, p.Addr())
	stuck.Write([]byte("F"))
	if _, err := p.Inject(ctx, "lat", faults.LatencySpec{Latency: time.Hour, Direction: faults.Both}, 1); err != nil {
		t.Fatal(err)
	}
	queued := dial(t, p.Addr())
	queued.Write([]byte("Equeued"))
	p.SetUpstream(blackHoleAddr)
	dialling := dial(t, p.Addr())
	eventually(t, "three connections", func() bool { return p.Stats().Active == 3 })

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(hangLimit):
		t.Fatalf("Run has not returned %v after cancel: it waits for a held chunk or a dial", hangLimit)
	}
	// A goroutine that has signalled its end (a deferred close or Done) may
	// not have returned yet when the signal is seen: wait for it, as goleak
	// does. One that never ends is still caught, after hangLimit.
	var left []string
	for deadline := time.Now().Add(hangLimit); ; time.Sleep(5 * time.Millisecond) {
		if left = proxyGoroutines(); len(left) == 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(left) != 0 {
		t.Errorf("%d goroutines of package proxy left %v after Run returned:\n%s", len(left), hangLimit, strings.Join(left, "\n\n"))
	}
	for _, c := range []net.Conn{stuck, queued, dialling} {
		if err := readErr(c); errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("client not closed: %v", err)
		}
	}
	if p.Stats().Active != 0 {
		t.Errorf("active connections after Run: %d", p.Stats().Active)
	}
	if err := p.Close(); err != nil {
		t.Errorf("Close after Run: %v", err)
	}
}

// TestCloseIsIdempotent: Close before Run stops Run at once, and Close can
// be called again.
func TestCloseIsIdempotent(t *testing.T) {
	p, err := proxy.Listen(proxy.Config{Name: "close"})
	if err != nil {
		t.Fatal(err)
	}
	addr := p.Addr()
	for range 2 {
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	}
	returns(t, "Run after Close", func() error { return p.Run(context.Background()) })
	if _, err := net.DialTimeout("tcp", addr, time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial after Close: %v, want ECONNREFUSED", err)
	}
	if _, err := p.Inject(context.Background(), "late", faults.ResetSpec{}, 1); err == nil {
		t.Error("Inject after Close did not fail")
	}
	// Close while Run runs waits for Run.
	q := startProxy(t, proxy.Config{Name: "close-running"})
	returns(t, "Close while running", q.Close)
	returns(t, "second Close", q.Close)
}

// TestSlowUpstreamDoesNotHoldUpOtherClients: a client whose upstream dial
// hangs (a black hole) is closed after DialTimeout and counted, while a
// client accepted after it, once the upstream is a live one, is served
// while the first dial still hangs: dials do not run on the accept loop.
// The test holds the first dial until the second client has been served,
// so the order does not depend on the machine's speed.
func TestSlowUpstreamDoesNotHoldUpOtherClients(t *testing.T) {
	up := serveTCP(t, echo)
	dialling, release := make(chan struct{}, 1), make(chan struct{})
	hook := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == blackHoleAddr {
			dialling <- struct{}{}
			<-release
		}
		return blackHoleDial(ctx, network, addr)
	}
	const dialTimeout = 2 * time.Second
	p := startProxy(t, proxy.Config{Name: "slow", Upstream: blackHoleAddr, DialTimeout: dialTimeout, Dial: hook})
	start := time.Now()
	waiting := dial(t, p.Addr())
	<-dialling
	p.SetUpstream(up.Addr())
	mustRoundTrip(t, dial(t, p.Addr()))
	if st := p.Stats(); st.DialFailed != 0 || st.Active != 2 {
		t.Errorf("second client served, stats %+v: want the first still dialling", st)
	}
	close(release)
	if err := readErr(waiting); !errors.Is(err, io.EOF) {
		t.Errorf("client behind the black hole: %v, want EOF after the dial timeout", err)
	}
	if waited := time.Since(start); waited < dialTimeout {
		t.Errorf("client behind the black hole closed after %v, before the %v dial timeout", waited, dialTimeout)
	}
	if st := p.Stats(); st.DialFailed != 1 {
		t.Errorf("DialFailed = %d, want 1", st.DialFailed)
	}
}

// TestNoUpstreamClosesClients: a proxy without an upstream closes clients
// and counts them; SetUpstream makes it work.
func TestNoUpstreamClosesClients(t *testing.T) {
	p := startProxy(t, proxy.Config{Name: "later"})
	if err := readErr(dial(t, p.Addr())); !errors.Is(err, io.EOF) {
		t.Errorf("client without upstream: %v, want EOF", err)
	}
	up := serveTCP(t, echo)
	p.SetUpstream(up.Addr())
	mustRoundTrip(t, dial(t, p.Addr()))
	if st := p.Stats(); st.DialFailed != 1 || st.Upstream != up.Addr() || st.Accepted != 2 {
		t.Errorf("stats: %+v", st)
	}
}

// blackHoleAddr is an upstream address whose dial, through blackHoleDial,
// hangs until its context ends, like a dial to a host that drops SYNs.
const blackHoleAddr = "127.0.0.1:1"

// blackHoleDial dials blackHoleAddr by waiting for ctx, anything else for
// real.
func blackHoleDial(ctx context.Context, network, addr string) (net.Conn, error) {
	if addr == blackHoleAddr {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return new(net.Dialer).DialContext(ctx, network, addr)
}
