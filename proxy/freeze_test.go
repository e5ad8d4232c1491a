package proxy_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/proxy"
)

// faultTarget is a proxy that can take a downstream latency fault: chaosload's
// own, or Toxiproxy's for the comparison.
type faultTarget interface {
	addr() string
	apply() error
	revert() error
	bytesDown() uint64 // 0 when unknown
	delayed() int64    // chunks the latest injection of the fault held; -1 when unknown
}

type chaosloadTarget struct {
	p    *proxy.Proxy
	undo faults.Revert
}

func (c *chaosloadTarget) addr() string { return c.p.Addr() }
func (c *chaosloadTarget) apply() (err error) {
	spec := faults.LatencySpec{Latency: 20 * time.Millisecond, Jitter: 5 * time.Millisecond, Direction: faults.Downstream}
	c.undo, err = c.p.Inject(context.Background(), "freeze-latency", spec, 1)
	return err
}
func (c *chaosloadTarget) revert() error     { return c.undo(context.Background()) }
func (c *chaosloadTarget) bytesDown() uint64 { return c.p.Stats().BytesDown }
func (c *chaosloadTarget) delayed() int64    { return c.p.Stats().Faults["freeze-latency"].ChunksDelayed }

// TestFaultChangesDoNotWaitForAStuckConnection is the freeze test: a fault
// change must not wait for a connection that does not read. One
// client asks the upstream to flood it and stops reading, so its TCP window
// fills and the proxy's write to it blocks. Applying and reverting a latency
// fault on that direction must return (a hang is caught at hangLimit), and
// another connection must keep carrying traffic during and after: delayed by
// the fault while it holds (each round trip at least 20 − 5 ms, each counted
// by the fault), not delayed once the revert has reached it (the fault's
// count stands still). Toxiproxy's ToxicCollection hangs for good here
// (Toxiproxy's issue #558): TestToxiproxyFreezes runs the same scenario against it. How
// long apply and revert take is printed by TestPrintRevertTime.
func TestFaultChangesDoNotWaitForAStuckConnection(t *testing.T) {
	cases := []struct {
		name         string
		faultedFirst bool // the stuck link is on the fault path when it gets stuck
	}{
		// stuck on the fast path: the link is blocked in a plain write.
		{"stuck on the fast path", false},
		// stuck on the fault path: the latency stage's queue is full and its
		// writer is blocked, so the revert must reach a blocked pipeline.
		{"stuck on the fault path", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			up := serveTCP(t, floodOrEcho)
			p := startProxy(t, proxy.Config{Name: "freeze", Upstream: up.Addr(), Seed: 1})
			target := &chaosloadTarget{p: p}
			if tc.faultedFirst {
				returns(t, "apply latency", target.apply)
			}
			r := freezeScenario(t, target, tc.faultedFirst, hangLimit)
			if !r.ok() {
				t.Fatalf("proxy froze: %+v", r)
			}
			t.Logf("apply %v, revert %v, round trip with the fault %v, without %v", r.apply, r.revert, r.faulted, r.clean)
			if r.faultedMin < 15*time.Millisecond || r.heldDuring < int64(r.during) {
				t.Errorf("the fault did not reach the other connection: round trips from %v, %d chunks held for %d round trips (want ≥ 15ms, one each)",
					r.faultedMin, r.heldDuring, r.during)
			}
			if r.heldAfter != 0 {
				t.Errorf("the revert did not reach the other connection: %d chunks held after it", r.heldAfter)
			}
			before := p.Stats().Active
			r.stuck.Close()
			eventually(t, "stuck connection closed by the proxy", func() bool {
				return p.Stats().Active == before-1
			})
			mustRoundTrip(t, r.other)
		})
	}
}

// freezeResult is what the freeze scenario observed.
type freezeResult struct {
	apply, revert  time.Duration // -1: failed, or had not returned after the limit
	during, after  int           // successful echo round trips on the other connection
	faulted, clean time.Duration // median round trip with the fault active, and without (for the log)
	faultedMin     time.Duration // the quickest round trip with the fault active
	// heldDuring is how many chunks the fault held during the round trips
	// with it; heldAfter, during those after the revert had reached the
	// other connection (-1 when the target cannot tell).
	heldDuring, heldAfter int64
	fresh                 bool // a connection opened after both calls carries traffic
	stuck, other          *net.TCPConn
}

func (r freezeResult) ok() bool {
	return r.apply >= 0 && r.revert >= 0 && r.during > 0 && r.after > 0 && r.fresh
}

// freezeScenario gets one client stuck behind a flooding upstream, then
// applies and reverts a downstream latency fault (or, when faultedFirst, only
// reverts and re-applies it) while another connection does echo round trips.
// An apply or revert that has not returned after limit counts as frozen.
func freezeScenario(t *testing.T, target faultTarget, faultedFirst bool, limit time.Duration) freezeResult {
	t.Helper()
	r := freezeResult{stuck: dial(t, target.addr()), other: dial(t, target.addr())}
	if _, err := r.stuck.Write([]byte("F")); err != nil {
		t.Fatal(err)
	}
	waitBackPressured(t, target)
	if _, err := r.other.Write([]byte("E")); err != nil {
		t.Fatal(err)
	}
	var during, after []time.Duration
	if faultedFirst {
		r.revert = timed(limit, target.revert)
		r.after, after, r.heldAfter = cleanRoundTrips(r.other, target)
		r.apply = timed(limit, target.apply)
		r.during, during, r.heldDuring = faultedRoundTrips(r.other, target)
	} else {
		r.apply = timed(limit, target.apply)
		r.during, during, r.heldDuring = faultedRoundTrips(r.other, target)
		r.revert = timed(limit, target.revert)
		r.after, after, r.heldAfter = cleanRoundTrips(r.other, target)
	}
	fresh := dial(t, target.addr())
	_, err := fresh.Write([]byte("E"))
	n, _ := roundTrips(fresh, 1)
	r.fresh = err == nil && n == 1
	if len(during) > 0 && len(after) > 0 {
		r.faulted, r.clean, r.faultedMin = median(during), median(after), quantile(during, 0)
	}
	return r
}

// faultedRoundTrips does 5 echo round trips on c while the fault holds and
// returns how many succeeded, how long each took and how many chunks the
// fault held meanwhile (-1 when the target cannot tell).
func faultedRoundTrips(c net.Conn, target faultTarget) (int, []time.Duration, int64) {
	before := target.delayed()
	n, ds := roundTrips(c, 5)
	if before < 0 {
		return n, ds, -1
	}
	return n, ds, target.delayed() - before
}

// cleanRoundTrips does echo round trips on c after the revert: first until
// one goes through without the fault holding a chunk (the revert reaches
// each connection asynchronously; a hang is caught at hangLimit), then 5
// more. It returns how many of those 5 succeeded, how long each took and
// how many chunks the fault held meanwhile (-1 when the target cannot
// tell: then it does the 5 at once).
func cleanRoundTrips(c net.Conn, target faultTarget) (int, []time.Duration, int64) {
	if target.delayed() >= 0 {
		for deadline := time.Now().Add(hangLimit); time.Now().Before(deadline); {
			before := target.delayed()
			if n, _ := roundTrips(c, 1); n == 0 || target.delayed() == before {
				break
			}
		}
	}
	return faultedRoundTrips(c, target)
}

// waitBackPressured waits until the stuck client's window and every buffer on
// the way are full: no more bytes move towards it.
func waitBackPressured(t testing.TB, target faultTarget) {
	t.Helper()
	if _, ok := target.(interface{ countsBytesAtClose() }); ok {
		// Toxiproxy counts bytes only at close: give the flood time instead.
		time.Sleep(500 * time.Millisecond)
		return
	}
	last, still := uint64(0), 0
	eventually(t, "the flood to stall", func() bool {
		n := target.bytesDown()
		if n == last && n > 0 {
			still++
		} else {
			still = 0
		}
		last = n
		return still >= 20 // 100 ms without progress
	})
}

// timed runs f and returns how long it took, or -1 when it failed or had
// not returned after limit.
func timed(limit time.Duration, f func() error) time.Duration {
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		if err != nil {
			return -1
		}
		return time.Since(start)
	case <-time.After(limit):
		return -1
	}
}

// roundTrips does up to n echo round trips and returns how many succeeded
// before the first failure, and how long each took.
func roundTrips(c net.Conn, n int) (int, []time.Duration) {
	var ds []time.Duration
	for i := range n {
		d, err := roundTrip(c, []byte("ping"))
		if err != nil {
			return i, ds
		}
		ds = append(ds, d)
	}
	return n, ds
}

// everyKind is one spec of every kind the proxy carries out, for the tests
// that must hold for all of them.
func everyKind() []faults.Spec {
	specs := []faults.Spec{
		faults.LatencySpec{Latency: 20 * time.Millisecond, Direction: faults.Both},
		faults.BandwidthSpec{Rate: 1000, Direction: faults.Both},
		faults.SlowCloseSpec{Delay: time.Second, Direction: faults.Both},
		faults.TimeoutSpec{},
		faults.ResetPeerSpec{Timeout: time.Hour},
		faults.ResetSpec{},
		faults.SlicerSpec{Size: 10, Delay: 10 * time.Millisecond, Direction: faults.Both},
		faults.LimitDataSpec{Bytes: 1 << 30, Direction: faults.Both},
		faults.DownSpec{},
		faults.LossSpec{Rate: 0.2, RTO: 50 * time.Millisecond, Mode: faults.Model, Direction: faults.Both},
		faults.ConnLimitSpec{Max: 1, OnExcess: faults.Queue},
		faults.ConnectDelaySpec{Delay: time.Second},
	}
	if kernelLossOK() == nil {
		specs = append(specs, faults.LossSpec{Rate: 0.2, Mode: faults.Kernel})
	}
	return specs
}

// TestEveryKindChangesWithoutWaitingForAStuckConnection extends the freeze
// test to every kind: with one client stuck behind a flooding upstream (its
// link blocked in a write), applying and reverting the fault each return
// (a hang is caught at hangLimit), and afterwards a new connection carries
// traffic.
func TestEveryKindChangesWithoutWaitingForAStuckConnection(t *testing.T) {
	for _, spec := range everyKind() {
		name := string(spec.Kind())
		if l, ok := spec.(faults.LossSpec); ok {
			name += "-" + string(l.Mode)
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			up := serveTCP(t, floodOrEcho)
			p := startProxy(t, proxy.Config{Name: "freeze", Upstream: up.Addr(), Seed: 1})
			stuck := dial(t, p.Addr())
			if _, err := stuck.Write([]byte("F")); err != nil {
				t.Fatal(err)
			}
			waitBackPressured(t, &chaosloadTarget{p: p})
			var undo faults.Revert
			apply := timed(hangLimit, func() (err error) {
				undo, err = p.Inject(context.Background(), "freeze", spec, 1)
				return err
			})
			if apply < 0 {
				t.Fatalf("%s: Inject failed or hangs", name)
			}
			revert := timed(hangLimit, func() error { return undo(context.Background()) })
			if revert < 0 {
				t.Fatalf("%s: Revert failed or hangs", name)
			}
			t.Logf("apply %v, revert %v", apply, revert)
			fresh := dial(t, p.Addr())
			if _, err := fresh.Write([]byte("E")); err != nil {
				t.Fatal(err)
			}
			mustRoundTrip(t, fresh)
		})
	}
}
