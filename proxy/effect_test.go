package proxy_test

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/proxy"
)

// TestFaultEffects: every kind counts what it did to the traffic a client
// sent through it, under the counter that names it, and a fault on a proxy
// nobody uses counts nothing at all.
func TestFaultEffects(t *testing.T) {
	t.Parallel()
	const ms = time.Millisecond
	tests := []struct {
		name    string
		spec    faults.Spec
		traffic func(t *testing.T, p *proxy.Proxy, before net.Conn) // before: opened before the fault
		counted func(s proxy.FaultStats) int64                      // the counter that must be > 0
	}{
		// latency holds each response chunk
		{"latency", faults.LatencySpec{Latency: ms, Direction: faults.Downstream}, trips(1),
			func(s proxy.FaultStats) int64 { return min(s.ChunksDelayed, s.BytesHeld) }},
		// bandwidth paces the bytes (40 B/s: one byte per 10 ms slice)
		{"bandwidth", faults.BandwidthSpec{Rate: 40, Direction: faults.Downstream}, trips(1),
			func(s proxy.FaultStats) int64 { return s.BytesHeld }},
		// slicer holds all but the first slice
		{"slicer", faults.SlicerSpec{Size: 1, Delay: ms, Direction: faults.Downstream}, trips(1),
			func(s proxy.FaultStats) int64 { return s.BytesHeld }},
		// loss holds a "lost" chunk for the RTO (seeded draws: some of 20 round trips)
		{"loss", faults.LossSpec{Rate: 0.5, RTO: ms, Mode: faults.Model, Direction: faults.Both}, trips(20),
			func(s proxy.FaultStats) int64 { return min(s.ChunksDelayed, s.BytesHeld) }},
		// timeout discards what the client sends
		{"timeout", faults.TimeoutSpec{}, func(t *testing.T, p *proxy.Proxy, c net.Conn) {
			write(t, c, "ping")
			eventually(t, "the bytes to be dropped", func() bool { return p.Stats().Faults["f"].BytesDropped == 4 })
		},
			func(s proxy.FaultStats) int64 { return s.BytesDropped }},
		// limit-data cuts the response after 2 bytes and ends the stream
		{"limit-data", faults.LimitDataSpec{Bytes: 2, Direction: faults.Downstream}, func(t *testing.T, _ *proxy.Proxy, c net.Conn) {
			write(t, c, "ping")
			readToEnd(t, c)
		}, func(s proxy.FaultStats) int64 { return min(s.BytesDropped, s.ConnsReset) }},
		// reset-peer resets a connection after its timeout
		{"reset-peer", faults.ResetPeerSpec{Timeout: ms}, func(t *testing.T, _ *proxy.Proxy, c net.Conn) { readToEnd(t, c) },
			func(s proxy.FaultStats) int64 { return s.ConnsReset }},
		// reset ends the open connection
		{"reset", faults.ResetSpec{}, func(t *testing.T, _ *proxy.Proxy, c net.Conn) { readToEnd(t, c) },
			func(s proxy.FaultStats) int64 { return s.ConnsReset }},
		// down closes the open connection
		{"down", faults.DownSpec{}, func(t *testing.T, _ *proxy.Proxy, c net.Conn) { readToEnd(t, c) },
			func(s proxy.FaultStats) int64 { return s.ConnsReset }},
		// conn-limit refuses a connection beyond its cap (the one open before holds the slot)
		{"conn-limit refuse", faults.ConnLimitSpec{Max: 1, OnExcess: faults.Refuse}, func(t *testing.T, p *proxy.Proxy, _ net.Conn) {
			// The reset may reach the client before its connect returns.
			if c, err := net.DialTimeout("tcp", p.Addr(), 5*time.Second); err == nil {
				readToEnd(t, c)
				c.Close()
			}
		}, func(s proxy.FaultStats) int64 { return s.ConnsRefused }},
		// connect-delay holds a new connection before dialling
		{"connect-delay", faults.ConnectDelaySpec{Delay: ms}, func(t *testing.T, p *proxy.Proxy, _ net.Conn) {
			mustRoundTrip(t, dial(t, p.Addr()))
		}, func(s proxy.FaultStats) int64 { return s.ConnsDelayed }},
		// slow-close holds the server's end of the stream
		{"slow-close", faults.SlowCloseSpec{Delay: ms, Direction: faults.Downstream}, func(t *testing.T, _ *proxy.Proxy, c net.Conn) {
			mustRoundTrip(t, c)
			c.(*net.TCPConn).CloseWrite()
			readToEnd(t, c)
		}, func(s proxy.FaultStats) int64 { return s.ConnsDelayed }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			up := serveTCP(t, echo)
			idle := startProxy(t, proxy.Config{Name: "idle", Upstream: up.Addr()})
			inject(t, idle, "f", tc.spec)()
			if s := idle.Stats().Faults["f"]; s != withoutEffect(s) {
				t.Errorf("a fault nobody met counted %+v", s)
			}

			p := startProxy(t, proxy.Config{Name: "used", Upstream: up.Addr(), Seed: 1})
			before := dial(t, p.Addr())
			mustRoundTrip(t, before)
			revert := inject(t, p, "f", tc.spec)
			tc.traffic(t, p, before)
			revert()
			if s := p.Stats().Faults["f"]; tc.counted(s) <= 0 {
				t.Errorf("the fault acted on traffic but counted %+v", s)
			}
		})
	}
}

// withoutEffect is s with every count of an effect zero.
func withoutEffect(s proxy.FaultStats) proxy.FaultStats {
	return proxy.FaultStats{Kind: s.Kind, Toxicity: s.Toxicity, Active: s.Active, Applied: s.Applied, Reverted: s.Reverted}
}

// trips makes n round trips on the connection opened before the fault.
func trips(n int) func(t *testing.T, _ *proxy.Proxy, c net.Conn) {
	return func(t *testing.T, _ *proxy.Proxy, c net.Conn) {
		for range n {
			mustRoundTrip(t, c)
		}
	}
}

func write(t *testing.T, c net.Conn, s string) {
	t.Helper()
	if _, err := c.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
}

// readToEnd reads until the connection ends (EOF or reset), within 5 s.
func readToEnd(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := io.Copy(io.Discard, c)
	if err != nil && isTimeout(err) {
		t.Fatalf("the connection did not end: %v", err)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
