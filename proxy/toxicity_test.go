package proxy_test

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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
// What a client sees does not depend on timing: an affected client's round
// trip fails (a reset or a close) or is held until the fault is reverted
// (an hour of latency, a slice an hour, a byte a second), while every other
// client's round trip completes before the revert.
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
	latency := affected(t, up.Addr(), 11, n, faults.LatencySpec{Latency: time.Hour}, false)
	if !slices.Equal(resetAfter, latency) {
		t.Errorf("same seed, same order, latency instead of reset: other ones\nreset:   %v\nlatency: %v",
			resetAfter, latency)
	}
	// Every other per-connection kind draws the same way (every kind calls
	// the one pure function selects): checked here by what the clients of
	// kinds with a certain effect see (a round trip held until the revert,
	// a reset or a close). connect-delay, conn-limit, loss and timeout go
	// through the same selects call (Stats.Selected counts it).
	perConn := []struct {
		spec       faults.Spec
		faultFirst bool // the kind acts on connections made while applied
	}{
		{faults.BandwidthSpec{Rate: 1, Direction: faults.Downstream}, false},                // the message takes a minute
		{faults.SlicerSpec{Size: 1, Delay: time.Hour, Direction: faults.Downstream}, false}, // one byte, then the revert
		{faults.LimitDataSpec{Bytes: 1, Direction: faults.Downstream}, false},               // closed after 1 byte
		{faults.ResetPeerSpec{}, true},                                                      // reset at once
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

// toxicityMsg is the round trip each client makes: 64 bytes, so a byte a
// second takes a minute, longer than hangLimit.
var toxicityMsg = []byte(strings.Repeat("toxicity", 8))

// affected opens n connections one after the other through a new proxy with
// the given seed, injects fault "half" at 50% toxicity (before the
// connections when faultFirst), and returns the indexes of the connections
// whose client sees the fault. Every client sends toxicityMsg at once; once
// as many round trips have completed as Stats says connections were not
// affected, the ones that have not (failed, or still held) are the affected
// ones. Then the fault is reverted, which ends the held round trips.
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
	for i := range conns {
		// Dial returns once the handshake is done and the connection is in
		// the listener's queue, which is FIFO: accept order = index order.
		// A reset that arrives before Dial returns is already an answer.
		c, err := net.DialTimeout("tcp", p.Addr(), hangLimit)
		if err != nil {
			if !errors.Is(err, syscall.ECONNRESET) {
				t.Fatal(err)
			}
			continue
		}
		conns[i] = c
		t.Cleanup(func() { c.Close() })
	}
	if !faultFirst {
		undo = inject()
	}
	var ok atomic.Int64
	done := make([]atomic.Bool, n)
	var wg sync.WaitGroup
	for i, c := range conns {
		if c != nil {
			wg.Go(func() {
				if _, err := roundTrip(c, toxicityMsg); err == nil {
					done[i].Store(true)
					ok.Add(1)
				}
			})
		}
	}
	deadline := time.Now().Add(hangLimit)
	for ok.Load() != int64(n)-p.Stats().Faults["half"].Selected {
		if time.Now().After(deadline) {
			st := p.Stats()
			t.Fatalf("%s (fault first: %v): after %v, %d round trips completed; the fault selected %d of %d connections (proxy: %+v)",
				spec.Kind(), faultFirst, hangLimit, ok.Load(), st.Faults["half"].Selected, n, st.Faults["half"])
		}
		time.Sleep(5 * time.Millisecond)
	}
	var idx []int
	for i := range done {
		if !done[i].Load() {
			idx = append(idx, i)
		}
	}
	if err := undo(context.Background()); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
	return idx
}
