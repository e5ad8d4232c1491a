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
func fetch(t testing.TB, addr string) (got []byte, reads []time.Duration, end error) {
	t.Helper()
	c := dial(t, addr)
	start := time.Now()
	c.SetDeadline(start.Add(hangLimit))
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

// TestBandwidthLimitsThroughput: 256 KB at 512 KB/s downstream arrive
// intact, and no faster than the limit allows: the stage hands on a 5,120
// byte slice (10 ms worth) at once and each further one 10 ms after the
// last, so the last byte comes at least (256,000 − 5,120) / 512,000 s =
// 490 ms after the request. How close to the limit the rate comes is
// printed by BenchmarkFaultAccuracy.
func TestBandwidthLimitsThroughput(t *testing.T) {
	const rate, size = 512_000, 256_000
	payload := randomBytes(t, size)
	up := serveTCP(t, sender(payload))
	p := startProxy(t, proxy.Config{Name: "bw", Upstream: up.Addr()})
	inject(t, p, "bw", faults.BandwidthSpec{Rate: rate, Direction: faults.Downstream})
	got, reads, err := fetch(t, p.Addr())
	if err != io.EOF || !bytes.Equal(got, payload) {
		t.Fatalf("got %d bytes, end %v; want the %d bytes and EOF", len(got), err, len(payload))
	}
	took := reads[len(reads)-1]
	t.Logf("256 KB in %v: %.0f B/s (limit %d)", took, float64(len(got))/took.Seconds(), rate)
	if least := time.Duration(float64(size-rate/100) / rate * float64(time.Second)); took < least {
		t.Errorf("256 KB through a %d B/s limit took %v, want at least %v", rate, took, least)
	}
}

// TestSlowCloseDelaysTheEnd: the data is not held with the close: with a
// slow close of an hour the client reads all of it while the close is still
// held, and the revert lets the close through. With a delay of 300 ms the
// close reaches the client no sooner than 300 ms after the request.
func TestSlowCloseDelaysTheEnd(t *testing.T) {
	up := serveTCP(t, sender([]byte("bye")))
	p := startProxy(t, proxy.Config{Name: "slow-close", Upstream: up.Addr()})
	revert := inject(t, p, "sc-hour", faults.SlowCloseSpec{Delay: time.Hour, Direction: faults.Downstream})
	c := dial(t, p.Addr())
	c.SetDeadline(time.Now().Add(hangLimit))
	if _, err := c.Write([]byte("G")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 3)
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "bye" {
		t.Fatalf("read %q, %v; want the data while the close is held", got, err)
	}
	if _, err := readFor(c, 50*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("after the data: %v, want the close still held", err)
	}
	revert()
	if n, err := readFor(c, hangLimit); n != 0 || err != io.EOF {
		t.Fatalf("after the revert: %d bytes, %v; want the close (EOF)", n, err)
	}

	inject(t, p, "sc", faults.SlowCloseSpec{Delay: 300 * time.Millisecond, Direction: faults.Downstream})
	start := time.Now()
	got, reads, err := fetch(t, p.Addr())
	closed := time.Since(start)
	if err != io.EOF || string(got) != "bye" {
		t.Fatalf("got %q, %v", got, err)
	}
	t.Logf("data after %v, close after %v", reads[0], closed)
	if closed < 300*time.Millisecond {
		t.Errorf("close after %v, want at least the 300ms delay", closed)
	}
}

// readFor reads from c until limit passes or the read fails, and returns
// how many bytes came and the error that ended it.
func readFor(c net.Conn, limit time.Duration) (int, error) {
	c.SetReadDeadline(time.Now().Add(limit))
	defer c.SetReadDeadline(time.Time{})
	buf := make([]byte, 64)
	total := 0
	for {
		n, err := c.Read(buf)
		total += n
		if err != nil {
			return total, err
		}
	}
}

// TestTimeoutBlackHolesThenCloses: with timeout 300 ms a request gets no
// answer and the connection is closed no sooner than 300 ms after the fault
// reached it; with timeout 0 the connection stays open and silent, and
// reverting closes it (it lost data), while a new connection works again.
func TestTimeoutBlackHolesThenCloses(t *testing.T) {
	up := serveTCP(t, echo)
	p := startProxy(t, proxy.Config{Name: "timeout", Upstream: up.Addr()})
	c := dial(t, p.Addr())
	mustRoundTrip(t, c)
	start := time.Now()
	inject(t, p, "t300", faults.TimeoutSpec{Timeout: 300 * time.Millisecond})
	c.Write([]byte("ping"))
	n, err := readFor(c, hangLimit)
	took := time.Since(start)
	t.Logf("timeout 300ms: read ended with %v after %v", err, took)
	if n != 0 || err == nil || errors.Is(err, os.ErrDeadlineExceeded) || took < 300*time.Millisecond {
		t.Errorf("read %d bytes, ended with %v after %v; want no answer and a close after at least 300ms", n, err, took)
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
// ECONNRESET, no sooner than 250 ms after it was accepted.
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
	if !errors.Is(err, syscall.ECONNRESET) || took < 250*time.Millisecond {
		t.Errorf("read ended with %v after %v, want ECONNRESET after at least 250ms", err, took)
	}
	if got := p.Stats().Faults["rp"].ConnsReset; got != 1 {
		t.Errorf("ConnsReset = %d, want 1", got)
	}
}

// TestSlicerCutsIntoSmallDelayedReads: with slices of 100 ± 20 bytes an
// hour apart, the client reads one slice of 80 to 120 bytes and nothing
// more until the revert, which hands on the rest: 2,000 bytes intact. With
// slices 10 ms apart, the 2,000 bytes (at least 17 slices) take at least
// 16 × 10 ms.
func TestSlicerCutsIntoSmallDelayedReads(t *testing.T) {
	payload := randomBytes(t, 2000)
	up := serveTCP(t, sender(payload))
	p := startProxy(t, proxy.Config{Name: "slicer", Upstream: up.Addr(), Seed: 3})
	revert := inject(t, p, "sl-hour", faults.SlicerSpec{Size: 100, SizeVariation: 20, Delay: time.Hour, Direction: faults.Downstream})
	c := dial(t, p.Addr())
	c.SetDeadline(time.Now().Add(hangLimit))
	if _, err := c.Write([]byte("G")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2000)
	first, err := c.Read(buf)
	if err != nil || first < 80 || first > 120 {
		t.Fatalf("first read: %d bytes, %v; want one slice of 80..120", first, err)
	}
	if n, err := readFor(c, 50*time.Millisecond); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("after the first slice: %d bytes, %v; want nothing until the revert", n, err)
	}
	revert()
	c.SetDeadline(time.Now().Add(hangLimit))
	rest, err := io.ReadAll(c)
	if err != nil || !bytes.Equal(append(buf[:first:first], rest...), payload) {
		t.Fatalf("after the revert: %d more bytes, %v; want the rest of the 2000 intact", len(rest), err)
	}

	inject(t, p, "sl", faults.SlicerSpec{Size: 100, SizeVariation: 20, Delay: 10 * time.Millisecond, Direction: faults.Downstream})
	got, reads, err := fetch(t, p.Addr())
	if err != io.EOF || !bytes.Equal(got, payload) {
		t.Fatalf("got %d bytes, %v", len(got), err)
	}
	t.Logf("%d reads over %v", len(reads), reads[len(reads)-1])
	if reads[len(reads)-1] < 160*time.Millisecond || len(reads) > 2000/80+1 {
		t.Errorf("%d reads over %v; want at most one read per slice, over at least 160ms", len(reads), reads[len(reads)-1])
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
// takes at least the delay (200 ms − 50 ms jitter); the delay is spent once
// per connection (Stats counts one affected connection for two round trips
// on it), and a connection made after the revert is not delayed (still
// one).
func TestConnectDelayDelaysNewConnections(t *testing.T) {
	up := serveTCP(t, echo)
	p := startProxy(t, proxy.Config{Name: "cd", Upstream: up.Addr(), Seed: 5})
	revert := inject(t, p, "cd", faults.ConnectDelaySpec{Delay: 200 * time.Millisecond, Jitter: 50 * time.Millisecond})
	c := dial(t, p.Addr())
	first, second := mustRoundTrip(t, c), mustRoundTrip(t, c)
	t.Logf("first round trip %v, second %v", first, second)
	if first < 150*time.Millisecond {
		t.Errorf("first round trip %v, want at least 150ms", first)
	}
	if got := p.Stats().Faults["cd"].Selected; got != 1 {
		t.Errorf("after two round trips on one connection: Affected = %d, want 1", got)
	}
	revert()
	mustRoundTrip(t, dial(t, p.Addr()))
	if got := p.Stats().Faults["cd"].Selected; got != 1 {
		t.Errorf("a connection made after the revert was delayed: Affected = %d, want 1", got)
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
			sixth, err := net.DialTimeout("tcp", p.Addr(), hangLimit)
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
				eventually(t, "a slot to free", func() bool { return p.Stats().Active == 4 })
				mustRoundTrip(t, dial(t, p.Addr()))
			case faults.Queue:
				if !errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatalf("sixth connection: %v, want it to wait", err)
				}
				five[0].Close()
				// The "ping" written above is answered once it is admitted.
				sixth.SetReadDeadline(time.Now().Add(hangLimit))
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
// request/response stream of 400 round trips (one chunk each way) holds
// about 800 × 5% = 40 chunks, accepted 20..60 (3 standard deviations), as
// the fault's counters say; each is held for at least the RTO, and the
// client sees them as stalled round trips (one per held chunk, or per two
// when both of a round trip's chunks were held).
func TestLossModelStallsAtTheExpectedRate(t *testing.T) {
	up := serveTCP(t, echo)
	p := startProxy(t, proxy.Config{Name: "loss", Upstream: up.Addr(), Seed: 9})
	const rto = 30 * time.Millisecond
	inject(t, p, "loss", faults.LossSpec{Rate: 0.05, RTO: rto, Mode: faults.Model, Direction: faults.Both})
	c := dial(t, p.Addr())
	stalls := 0
	for range 400 {
		if d := mustRoundTrip(t, c); d >= rto {
			stalls++
		}
	}
	st := p.Stats().Faults["loss"]
	t.Logf("%d chunks held for %v; %d of 400 round trips took ≥ %v", st.ChunksDelayed, st.InjectedDelay, stalls, rto)
	if st.ChunksDelayed < 20 || st.ChunksDelayed > 60 {
		t.Errorf("%d of 800 chunks held, want about 40 (20..60)", st.ChunksDelayed)
	}
	if st.InjectedDelay < time.Duration(st.ChunksDelayed)*rto {
		t.Errorf("%d chunks held for %v in all, want at least the %v RTO each", st.ChunksDelayed, st.InjectedDelay, rto)
	}
	if int64(stalls) < (st.ChunksDelayed+1)/2 {
		t.Errorf("%d round trips stalled for %d held chunks: a held chunk did not reach the client late", stalls, st.ChunksDelayed)
	}
}
