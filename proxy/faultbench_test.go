//go:build manual

// A manual measuring tool, not a test: `go test ./...` does not build it,
// so the suite skips nothing. Run it with: CHAOSLOAD_BENCH=1 go test -tags manual -run TestPrint -v ./proxy/

package proxy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/proxy"
)

// Fault benchmarks (bench/proxy.sh runs them), measured with real clients
// and printed, not judged (the machine is shared): how long a revert takes
// to reach 1,000 live connections while 10 are back-pressured, and how
// accurate an injected 10 ms latency is with 50 connections busy at once.
//
//	CHAOSLOAD_BENCH=1 go test -run='TestPrint(Revert|Latency)' -v ./proxy

// revertConns and revertStuck: the revert benchmark's live connections, and
// how many of them are back-pressured (their client never reads a flood).
const revertConns, revertStuck = 1000, 10

// TestPrintRevertTime holds a 1 s downstream latency fault on 1,000 live
// connections, 10 of them back-pressured by a flood their clients never read.
// Each of the 990 others sends one echo request, which the fault holds for
// 1 s; 100 ms later Revert is called. Printed: how long Revert took to
// return, and when the last of the 990 clients got its answer, from the
// Revert call (the revert time a client sees: without the revert they would
// come 1 s after sending). Then each of the 990 does one more round trip, now
// without the fault: its p50 and maximum.
func TestPrintRevertTime(t *testing.T) {
	if os.Getenv("CHAOSLOAD_BENCH") == "" {
		t.Skip("set CHAOSLOAD_BENCH=1 to measure the revert time")
	}
	up := serveTCP(t, floodOrEcho)
	p := startProxy(t, proxy.Config{Name: "revert", Upstream: up.Addr(), Seed: 1})
	live := openEchoConns(t, p.Addr(), revertConns-revertStuck)
	for range revertStuck {
		if _, err := dial(t, p.Addr()).Write([]byte("F")); err != nil {
			t.Fatal(err)
		}
	}
	waitBackPressured(t, &chaosloadTarget{p: p})
	undo, err := p.Inject(context.Background(), "revert-latency",
		faults.LatencySpec{Latency: time.Second, Direction: faults.Downstream}, 1)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // every link has moved to the fault path
	answered := sendAll(t, live)
	time.Sleep(100 * time.Millisecond) // every request is held by the fault
	start := time.Now()
	if err := undo(context.Background()); err != nil {
		t.Fatal(err)
	}
	returned := time.Since(start)
	last := time.Duration(0)
	for i, at := range answered() {
		if at.IsZero() {
			t.Fatalf("connection %d got no answer", i)
		}
		last = max(last, at.Sub(start))
	}
	after := make([]time.Duration, len(live))
	for i, c := range live {
		after[i] = mustRoundTrip(t, c)
	}
	t.Logf("revert with %d live connections, %d back-pressured (load %s):\n"+
		"  Revert returned after %v\n  last of %d held answers arrived %v after the Revert call (target ≤ 100ms; 1s without the revert)\n"+
		"  next round trip on each: p50 %v, max %v",
		revertConns, revertStuck, loadAvg(), returned, len(live), last, median(after), quantile(after, 1))
}

// openEchoConns opens n connections in echo mode and does one round trip on
// each, so every link is running.
func openEchoConns(t *testing.T, addr string, n int) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, n)
	for i := range conns {
		c := dial(t, addr)
		if _, err := c.Write([]byte("E")); err != nil {
			t.Fatal(err)
		}
		mustRoundTrip(t, c)
		conns[i] = c
	}
	return conns
}

// sendAll writes one request on every connection and reads each answer in
// its own goroutine. The returned function waits for them (at most 5 s each)
// and gives the time each answer was complete (zero when none came).
func sendAll(t *testing.T, conns []net.Conn) func() []time.Time {
	t.Helper()
	at := make([]time.Time, len(conns))
	msg := []byte("ping")
	var wg sync.WaitGroup
	for i, c := range conns {
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			defer c.SetReadDeadline(time.Time{})
			got := make([]byte, len(msg))
			if _, err := readFull(c, got); err == nil && bytes.Equal(got, msg) {
				at[i] = time.Now()
			}
		})
	}
	return func() []time.Time { wg.Wait(); return at }
}

func readFull(c net.Conn, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := c.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// latencyConns and latencyRounds: the latency accuracy benchmark's
// concurrent connections and round trips per connection per measurement.
const latencyConns, latencyRounds = 50, 60

// TestPrintLatencyAccuracy measures an injected 10 ms downstream latency with
// 50 connections doing echo round trips at once, through chaosload and
// through Toxiproxy's latency toxic. For each: the p50 and p99 of the round
// trip without the fault, with it, and the p50 error (with − without − 10 ms;
// target |error| ≤ 0.5 ms).
func TestPrintLatencyAccuracy(t *testing.T) {
	if os.Getenv("CHAOSLOAD_BENCH") == "" {
		t.Skip("set CHAOSLOAD_BENCH=1 to measure the latency accuracy")
	}
	const want = 10 * time.Millisecond
	var out bytes.Buffer
	fmt.Fprintf(&out, "injected latency %v, %d connections, %d round trips each (load %s):\n", want, latencyConns, latencyRounds, loadAvg())
	for _, name := range []string{"chaosload", "toxiproxy"} {
		up := serveTCP(t, echo)
		addr, apply := latencyTarget(t, name, up.Addr(), want)
		conns := make([]net.Conn, latencyConns)
		for i := range conns {
			conns[i] = dial(t, addr)
			mustRoundTrip(t, conns[i])
		}
		base := concurrentRoundTrips(t, conns, latencyRounds)
		if err := apply(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		with := concurrentRoundTrips(t, conns, latencyRounds)
		errP50 := median(with) - median(base) - want
		fmt.Fprintf(&out, "  %-9s without: p50 %v p99 %v; with: p50 %v p99 %v; p50 error %v (raw p50 − 10ms: %v)\n",
			name, median(base), quantile(base, 0.99), median(with), quantile(with, 0.99), errP50, median(with)-want)
	}
	t.Log(out.String())
}

// latencyTarget starts the named proxy in front of upstream and returns its
// address and a function that applies a downstream latency fault of d.
func latencyTarget(t *testing.T, name, upstream string, d time.Duration) (string, func() error) {
	if name == "chaosload" {
		p := startProxy(t, proxy.Config{Name: "accuracy", Upstream: upstream, Seed: 1})
		return p.Addr(), func() error {
			_, err := p.Inject(context.Background(), "accuracy", faults.LatencySpec{Latency: d, Direction: faults.Downstream}, 1)
			return err
		}
	}
	tp := startToxiproxyProxy(t, upstream)
	return tp.Listen, func() error {
		body, _ := json.Marshal(map[string]any{"name": "accuracy", "type": "latency", "stream": "downstream",
			"toxicity": 1.0, "attributes": map[string]int64{"latency": d.Milliseconds()}})
		_, err := tp.Toxics.AddToxicJson(bytes.NewReader(body))
		return err
	}
}

// concurrentRoundTrips does rounds echo round trips on every connection at
// once and returns every duration, sorted.
func concurrentRoundTrips(t *testing.T, conns []net.Conn, rounds int) []time.Duration {
	t.Helper()
	all := make([][]time.Duration, len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Go(func() {
			for range rounds {
				d, err := roundTrip(c, []byte("ping"))
				if err != nil {
					t.Error(err)
					return
				}
				all[i] = append(all[i], d)
			}
		})
	}
	wg.Wait()
	var ds []time.Duration
	for _, a := range all {
		ds = append(ds, a...)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds
}

// loadAvg is the machine's 1, 5 and 15 minute load averages.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil || len(b) < 14 {
		return "unknown"
	}
	f := bytes.Fields(b)
	return string(bytes.Join(f[:3], []byte(" ")))
}
