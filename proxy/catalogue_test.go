package proxy_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/proxy"
)

// inject applies spec as fault name at toxicity 1 and registers its revert
// with the test's cleanup; the returned function reverts it earlier.
func inject(t *testing.T, p *proxy.Proxy, name string, spec faults.Spec) func() {
	t.Helper()
	undo, err := p.Inject(context.Background(), name, spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { undo(context.Background()) })
	return func() {
		if err := undo(context.Background()); err != nil {
			t.Errorf("revert %s: %v", name, err)
		}
	}
}

// sender answers one byte from the client with n bytes of payload, then
// half-closes.
func sender(payload []byte) func(*server, net.Conn) {
	return func(s *server, c net.Conn) {
		var b [1]byte
		if _, err := io.ReadFull(c, b[:]); err != nil {
			return
		}
		if _, err := c.Write(payload); err != nil {
			return
		}
		c.(*net.TCPConn).CloseWrite()
		io.Copy(io.Discard, c)
	}
}

// fetch asks a sender for its payload and returns what arrived, the time of
// each read (from the request) and the error that ended the stream.
func fetch(t *testing.T, addr string) (got []byte, reads []time.Duration, end error) {
	t.Helper()
	c := dial(t, addr)
	start := time.Now()
	c.SetDeadline(start.Add(10 * time.Second))
	if _, err := c.Write([]byte("G")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			got = append(got, buf[:n]...)
			reads = append(reads, time.Since(start))
		}
		if err != nil {
			return got, reads, err
		}
	}
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBandwidthLimitsThroughput: 256 KB at 512 KB/s downstream take about
// half a second as the client measures it (±15%), and arrive intact.
func TestBandwidthLimitsThroughput(t *testing.T) {
	payload := randomBytes(t, 256_000)
	up := serveTCP(t, sender(payload))
	p := startProxy(t, proxy.Config{Name: "bw", Upstream: up.Addr()})
	inject(t, p, "bw", faults.BandwidthSpec{Rate: 512_000, Direction: faults.Downstream})
	got, reads, err := fetch(t, p.Addr())
	if err != io.EOF || !bytes.Equal(got, payload) {
		t.Fatalf("got %d bytes, end %v; want the %d bytes and EOF", len(got), err, len(payload))
	}
	took := reads[len(reads)-1]
	rate := float64(len(got)) / took.Seconds()
	t.Logf("256 KB in %v: %.0f B/s (limit 512000)", took, rate)
	if rate < 512_000*0.85 || rate > 512_000*1.15 {
		t.Errorf("measured %.0f B/s through a 512000 B/s limit, want ±15%%", rate)
	}
}

// TestSlowCloseDelaysTheEnd: the data arrives at once, the server's close
// reaches the client 300 ms later.
func TestSlowCloseDelaysTheEnd(t *testing.T) {
	up := serveTCP(t, sender([]byte("bye")))
	p := startProxy(t, proxy.Config{Name: "slow-close", Upstream: up.Addr()})
	inject(t, p, "sc", faults.SlowCloseSpec{Delay: 300 * time.Millisecond, Direction: faults.Downstream})
	start := time.Now()
	got, reads, err := fetch(t, p.Addr())
	closed := time.Since(start)
	if err != io.EOF || string(got) != "bye" {
		t.Fatalf("got %q, %v", got, err)
	}
	t.Logf("data after %v, close after %v", reads[0], closed)
	if reads[0] > 100*time.Millisecond || closed < 300*time.Millisecond || closed > 600*time.Millisecond {
		t.Errorf("data after %v (want < 100ms), close after %v (want 300ms..600ms)", reads[0], closed)
	}
}

// TestTimeoutBlackHolesThenCloses: with timeout 300 ms a request gets no
// answer and the connection is closed 300 ms after the fault reached it;
// with timeout 0 the connection stays open and silent, and reverting closes
// it (it lost data), while a new connection works again.
func TestTimeoutBlackHolesThenCloses(t *testing.T) {
	up := serveTCP(t, echo)
	p := startProxy(t, proxy.Config{Name: "timeout", Upstream: up.Addr()})
	c := dial(t, p.Addr())
	mustRoundTrip(t, c)
	start := time.Now()
	inject(t, p, "t300", faults.TimeoutSpec{Timeout: 300 * time.Millisecond})
	c.Write([]byte("ping"))
	err := readErr(c)
	took := time.Since(start)
	t.Logf("timeout 300ms: read ended with %v after %v", err, took)
	if err == nil || errors.Is(err, os.ErrDeadlineExceeded) || took < 280*time.Millisecond || took > 800*time.Millisecond {
		t.Errorf("read ended with %v after %v; want a close after about 300ms", err, took)
	}

	p2 := startProxy(t, proxy.Config{Name: "timeout0", Upstream: up.Addr()})
	c2 := dial(t, p2.Addr())
	mustRoundTrip(t, c2)
	revert := inject(t, p2, "t0", faults.TimeoutSpec{})
	if _, err := roundTrip2(c2, 500*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("black hole: round trip ended with %v, want silence", err)
	}
	revert()
	if err := readErr(c2); errors.Is(err, os.ErrDeadlineExceeded) || err == nil {
		t.Errorf("after revert the connection that lost data: %v, want closed", err)
	}
	mustRoundTrip(t, dial(t, p2.Addr()))
}

// roundTrip2 is one echo round trip bounded by limit.
func roundTrip2(c net.Conn, limit time.Duration) (time.Duration, error) {
	start := time.Now()
	c.SetDeadline(start.Add(limit))
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write([]byte("ping")); err != nil {
		return 0, err
	}
	_, err := io.ReadFull(c, make([]byte, 4))
	return time.Since(start), err
}

// TestResetPeerResetsAfterTimeout: a connection works, then reads
// ECONNRESET 250 ms after it was accepted.
func TestResetPeerResetsAfterTimeout(t *testing.T) {
	up := serveTCP(t, echo)
	p := startProxy(t, proxy.Config{Name: "reset-peer", Upstream: up.Addr()})
	inject(t, p, "rp", faults.ResetPeerSpec{Timeout: 250 * time.Millisecond})
	start := time.Now()
	c := dial(t, p.Addr())
	mustRoundTrip(t, c)
	err := readErr(c)
	took := time.Since(start)
	t.Logf("reset after %v: %v", took, err)
	if !errors.Is(err, syscall.ECONNRESET) || took < 240*time.Millisecond || took > 700*time.Millisecond {
		t.Errorf("read ended with %v after %v, want ECONNRESET after about 250ms", err, took)
	}
	if got := p.Stats().Faults["rp"].ConnsReset; got != 1 {
		t.Errorf("ConnsReset = %d, want 1", got)
	}
}

// TestSlicerCutsIntoSmallDelayedReads: 2,000 bytes arrive in reads of at
// most 120 bytes (size 100 ± 20), spread over at least 15 × 10 ms.
func TestSlicerCutsIntoSmallDelayedReads(t *testing.T) {
	payload := randomBytes(t, 2000)
	up := serveTCP(t, sender(payload))
	p := startProxy(t, proxy.Config{Name: "slicer", Upstream: up.Addr(), Seed: 3})
	inject(t, p, "sl", faults.SlicerSpec{Size: 100, SizeVariation: 20, Delay: 10 * time.Millisecond, Direction: faults.Downstream})
	got, reads, err := fetch(t, p.Addr())
	if err != io.EOF || !bytes.Equal(got, payload) {
		t.Fatalf("got %d bytes, %v", len(got), err)
	}
	t.Logf("%d reads over %v", len(reads), reads[len(reads)-1])
	if len(reads) < 15 || reads[len(reads)-1] < 150*time.Millisecond {
		t.Errorf("%d reads over %v; want ≥ 15 reads over ≥ 150ms", len(reads), reads[len(reads)-1])
	}
	if reads[0] > 50*time.Millisecond || len(reads) > 2000/80+1 {
		t.Errorf("first read after %v, %d reads; want the first slice at once and at most one read per slice", reads[0], len(reads))
	}
}

// TestLimitDataClosesAfterNBytes: the client gets exactly the first 1,000
// bytes, then the connection is closed.
func TestLimitDataClosesAfterNBytes(t *testing.T) {
	payload := randomBytes(t, 50_000)
	up := serveTCP(t, sender(payload))
	p := startProxy(t, proxy.Config{Name: "limit", Upstream: up.Addr()})
	inject(t, p, "ld", faults.LimitDataSpec{Bytes: 1000, Direction: faults.Downstream})
	got, _, err := fetch(t, p.Addr())
	if !bytes.Equal(got, payload[:1000]) {
		t.Fatalf("got %d bytes (end %v), want the first 1000", len(got), err)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the connection was not closed after the limit: %v", err)
	}
}

// TestConnectDelayDelaysNewConnections: a new connection's first round trip
// takes the delay (200 ms ± 50 ms jitter), the next one does not; a
// connection made after the revert is not delayed.
func TestConnectDelayDelaysNewConnections(t *testing.T) {
	up := serveTCP(t, echo)
	p := startProxy(t, proxy.Config{Name: "cd", Upstream: up.Addr(), Seed: 5})
	revert := inject(t, p, "cd", faults.ConnectDelaySpec{Delay: 200 * time.Millisecond, Jitter: 50 * time.Millisecond})
	c := dial(t, p.Addr())
	first, second := mustRoundTrip(t, c), mustRoundTrip(t, c)
	t.Logf("first round trip %v, second %v", first, second)
	if first < 150*time.Millisecond || first > 400*time.Millisecond || second > 50*time.Millisecond {
		t.Errorf("first round trip %v (want 150ms..400ms), second %v (want < 50ms)", first, second)
	}
	revert()
	if d := mustRoundTrip(t, dial(t, p.Addr())); d > 50*time.Millisecond {
		t.Errorf("after revert a new connection took %v", d)
	}
}

// TestConnLimit: with max 5 the sixth concurrent connection is reset
// (refuse) or waits (queue), and once one of the five closes a new one
// (refuse) or the waiting one (queue) proceeds.
func TestConnLimit(t *testing.T) {
	for _, mode := range []faults.Excess{faults.Refuse, faults.Queue} {
		t.Run(string(mode), func(t *testing.T) {
			up := serveTCP(t, echo)
			p := startProxy(t, proxy.Config{Name: "limit", Upstream: up.Addr()})
			inject(t, p, "cap", faults.ConnLimitSpec{Max: 5, OnExcess: mode})
			var five []net.Conn
			for range 5 {
				c := dial(t, p.Addr())
				mustRoundTrip(t, c)
				five = append(five, c)
			}
			sixth, err := net.DialTimeout("tcp", p.Addr(), 5*time.Second)
			if err == nil { // a reset may come before Dial returns: that is an answer too
				t.Cleanup(func() { sixth.Close() })
				_, err = roundTrip2(sixth, 300*time.Millisecond)
			}
			switch mode {
			case faults.Refuse:
				if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) && err != io.EOF {
					t.Fatalf("sixth connection: %v, want reset", err)
				}
				five[0].Close()
				eventually(t, 5*time.Second, "a slot to free", func() bool { return p.Stats().Active == 4 })
				mustRoundTrip(t, dial(t, p.Addr()))
			case faults.Queue:
				if !errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatalf("sixth connection: %v, want it to wait", err)
				}
				five[0].Close()
				// The "ping" written above is answered once it is admitted.
				sixth.SetReadDeadline(time.Now().Add(5 * time.Second))
				if _, err := io.ReadFull(sixth, make([]byte, 4)); err != nil {
					t.Fatalf("queued connection after one closed: %v", err)
				}
			}
			st := p.Stats().Faults["cap"]
			got, other := st.ConnsRefused, st.ConnsQueued
			if mode == faults.Queue {
				got, other = other, got
			}
			if got != 1 || other != 0 {
				t.Errorf("connections %s = %d (the other way %d), want 1 (0)", mode, got, other)
			}
		})
	}
}

// TestLossModelKeepsBytesIntact: 1 MiB each way through 10% loss arrives
// byte for byte (SHA-256), and chunks were held.
func TestLossModelKeepsBytesIntact(t *testing.T) {
	up := serveTCP(t, echo)
	p := startProxy(t, proxy.Config{Name: "loss", Upstream: up.Addr(), Seed: 7})
	inject(t, p, "loss", faults.LossSpec{Rate: 0.10, RTO: 20 * time.Millisecond, Mode: faults.Model, Direction: faults.Both})
	c := dial(t, p.Addr())
	payload := randomBytes(t, 1<<20)
	sent := sha256.Sum256(payload)
	c.SetDeadline(time.Now().Add(60 * time.Second))
	go func() { c.Write(payload); c.CloseWrite() }()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(got) != sent {
		t.Fatalf("received %d bytes that differ from the %d sent", len(got), len(payload))
	}
	st := p.Stats().Faults["loss"]
	t.Logf("held %d chunks for %v in total", st.ChunksDelayed, st.InjectedDelay)
	if st.ChunksDelayed == 0 {
		t.Error("no chunk was held at 10% loss")
	}
}

// TestLossModelStallsAtTheExpectedRate: at 5% loss both ways a
// request/response stream of 400 round trips stalls (≥ rto) on about
// 1 − 0.95² ≈ 9.75% of them: 39 expected, accepted 20..60 (3 standard
// deviations); no round trip is both fast and wrong.
func TestLossModelStallsAtTheExpectedRate(t *testing.T) {
	up := serveTCP(t, echo)
	p := startProxy(t, proxy.Config{Name: "loss", Upstream: up.Addr(), Seed: 9})
	const rto = 30 * time.Millisecond
	inject(t, p, "loss", faults.LossSpec{Rate: 0.05, RTO: rto, Mode: faults.Model, Direction: faults.Both})
	c := dial(t, p.Addr())
	stalls := 0
	for range 400 {
		d := mustRoundTrip(t, c)
		if d >= rto {
			stalls++
		}
	}
	t.Logf("%d of 400 round trips stalled ≥ %v", stalls, rto)
	if stalls < 20 || stalls > 60 {
		t.Errorf("%d of 400 round trips stalled, want about 39 (20..60)", stalls)
	}
}
