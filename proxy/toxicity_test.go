package proxy_test

import (
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/proxy"
)

// TestToxicityIsSeededPerConnection: a fault with toxicity 50% over 200
// connections affects 100 ± 20 of them, as the clients see it; the count
// matches Stats; the same seed with the same connection order picks the same
// connections, whether the fault came before or after they connected, and
// whatever the fault's kind (the draw depends on the seed, the fault's name
// and the connection's accept order only). Another seed picks others.
//
// The reset fault makes the check independent of timing: an affected client
// reads ECONNRESET, any other completes its round trip.
func TestToxicityIsSeededPerConnection(t *testing.T) {
	up := serveTCP(t, echo)
	const n = 200
	resetAfter := affected(t, up.Addr(), 11, n, faults.ResetSpec{}, false)
	if len(resetAfter) < n/2-20 || len(resetAfter) > n/2+20 {
		t.Fatalf("toxicity 50%% affected %d of %d connections, want 100 ± 20", len(resetAfter), n)
	}
	resetBefore := affected(t, up.Addr(), 11, n, faults.ResetSpec{}, true)
	if !slices.Equal(resetAfter, resetBefore) {
		t.Errorf("same seed, same order, fault before the connections: other ones\nafter:  %v\nbefore: %v",
			resetAfter, resetBefore)
	}
	latency := affected(t, up.Addr(), 11, n, faults.LatencySpec{Latency: 300 * time.Millisecond}, false)
	if !slices.Equal(resetAfter, latency) {
		t.Errorf("same seed, same order, latency instead of reset: other ones\nreset:   %v\nlatency: %v",
			resetAfter, latency)
	}
	// Every other per-connection kind draws the same way (every kind calls
	// the one pure function selects): checked here by what the clients of
	// kinds with an immediate, certain effect see (a delay ≥ 200 ms, a
	// reset or a close). connect-delay, conn-limit, loss and timeout go
	// through the same selects call (Stats.Selected counts it).
	perConn := []struct {
		spec       faults.Spec
		faultFirst bool // the kind acts on connections made while applied
	}{
		{faults.BandwidthSpec{Rate: 10, Direction: faults.Downstream}, false},                            // "ping" takes 400 ms
		{faults.SlicerSpec{Size: 1, Delay: 100 * time.Millisecond, Direction: faults.Downstream}, false}, // 4 slices
		{faults.LimitDataSpec{Bytes: 1, Direction: faults.Downstream}, false},                            // closed after 1 byte
		{faults.ResetPeerSpec{}, true}, // reset at once
	}
	for _, k := range perConn {
		got := affected(t, up.Addr(), 11, n, k.spec, k.faultFirst)
		if !slices.Equal(resetAfter, got) {
			t.Errorf("same seed, same order, %s instead of reset: other ones\nreset: %v\n%s: %v",
				k.spec.Kind(), resetAfter, k.spec.Kind(), got)
		}
	}
	other := affected(t, up.Addr(), 12, n, faults.ResetSpec{}, false)
	if slices.Equal(resetAfter, other) {
		t.Error("another seed picked exactly the same connections")
	}
	t.Logf("seed 11: %d of %d affected; seed 12: %d", len(resetAfter), n, len(other))
}

// affected opens n connections one after the other through a new proxy with
// the given seed, injects fault "half" at 50% toxicity (before the
// connections when faultFirst), and returns the indexes of the connections
// whose client sees the fault: a reset, or a round trip of at least 200 ms.
func affected(t *testing.T, upstream string, seed int64, n int, spec faults.Spec, faultFirst bool) []int {
	t.Helper()
	p := startProxy(t, proxy.Config{Name: "toxicity", Upstream: upstream, Seed: seed})
	inject := func() faults.Revert {
		undo, err := p.Inject(context.Background(), "half", spec, 0.5)
		if err != nil {
			t.Fatal(err)
		}
		return undo
	}
	var undo faults.Revert
	if faultFirst {
		undo = inject()
	}
	conns := make([]net.Conn, n)
	hit := make([]bool, n)
	for i := range conns {
		// Dial returns once the handshake is done and the connection is in
		// the listener's queue, which is FIFO: accept order = index order.
		// A reset that arrives before Dial returns is already an answer.
		c, err := net.DialTimeout("tcp", p.Addr(), 5*time.Second)
		if err != nil {
			if !errors.Is(err, syscall.ECONNRESET) {
				t.Fatal(err)
			}
			hit[i] = true
			continue
		}
		conns[i] = c
		t.Cleanup(func() { c.Close() })
	}
	if !faultFirst {
		undo = inject()
	}
	defer undo(context.Background())
	for start := 0; start < n; start += 50 { // concurrent, in batches a 2-core machine keeps up with
		var wg sync.WaitGroup
		for i := start; i < min(start+50, n); i++ {
			if conns[i] != nil {
				wg.Go(func() { hit[i] = sees(t, conns[i], i) })
			}
		}
		wg.Wait()
	}
	var idx []int
	for i, h := range hit {
		if h {
			idx = append(idx, i)
		}
	}
	if got := p.Stats().Faults["half"].Selected; got != int64(len(idx)) {
		t.Errorf("%s: Stats counts %d affected connections, the clients saw %d", spec.Kind(), got, len(idx))
	}
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
	return idx
}

// sees reports whether the client of connection i sees a fault on a round
// trip: a reset, or a delay of at least 200 ms.
func sees(t *testing.T, c net.Conn, i int) bool {
	d, err := roundTrip(c, []byte("ping"))
	switch {
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	case err != nil:
		t.Errorf("connection %d: %v", i, err)
	}
	return d >= 200*time.Millisecond
}
