//go:build manual

// A manual measuring tool, not a test: `go test ./...` does not build it,
// so the suite skips nothing. Run it with: bench/proxy.sh (CHAOSLOAD_BENCH=1 go test -tags manual -run TestPrintPassthroughRatios -v ./proxy/)

package proxy_test

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
)

// TestPrintPassthroughRatios runs the pass-through benchmarks for the four
// routes (direct, chaosload on the sockmap fast path, chaosload copying,
// Toxiproxy) in one process and prints the figures side by side with their
// ratios to direct, then the memory each route costs per idle connection.
// It is a measurement, not a check, so it runs only when asked:
//
//	CHAOSLOAD_BENCH=1 go test -run=TestPrintPassthroughRatios -v -benchtime=2s ./proxy
//
// Proxy CPU per request is the process's CPU time per request through the
// route minus that of the direct route (the client and the echo server are
// the same in both). The floor row is the same figure for the simplest Go
// proxy (plainRoute), in the copy column, and the copy path's ratio to it.
// The kernel's share of the sockmap route (softirq, and the kworker threads
// that send what was redirected) is counted in no process: the machine CPU
// row is the whole machine's busy time per request, other users included.
func TestPrintPassthroughRatios(t *testing.T) {
	if os.Getenv("CHAOSLOAD_BENCH") == "" {
		t.Skip("set CHAOSLOAD_BENCH=1 to run the pass-through comparison")
	}
	var out strings.Builder
	w := tabwriter.NewWriter(&out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "load average before: %s\t\t\t\t\t\t\t\t\n", loadAvg())
	fmt.Fprintln(w, "measure\tdirect\tsockmap\tcopy\ttoxiproxy\tsockmap/direct\tcopy/direct\ttoxiproxy/direct\t")
	for _, n := range pingPongConns {
		res := measure(t, func(b *testing.B, r route) { benchPingPong(b, r, n) }, append(routes[:4:4], plainRoute))
		row(w, fmt.Sprintf("64 B echo, %d conns: req/s", n), metric(res, "req/s"), "%.0f")
		cpu := metric(res, "cpu-µs/req")
		row(w, fmt.Sprintf("%d conns: process CPU µs/req", n), cpu, "%.1f")
		fmt.Fprintf(w, "%d conns: proxy CPU µs/req\t-\t%.1f\t%.1f\t%.1f\t\t\t\t\n", n,
			cpu[1]-cpu[0], cpu[2]-cpu[0], cpu[3]-cpu[0])
		row(w, fmt.Sprintf("%d conns: machine CPU µs/req", n), metric(res, "machine-µs/req"), "%.1f")
		plain := res[4]["cpu-µs/req"] - cpu[0]
		fmt.Fprintf(w, "%d conns: simplest Go proxy's CPU µs/req (copy/it %.2f)\t-\t-\t%.1f\t-\t\t\t\t\n", n,
			(cpu[2]-cpu[0])/plain, plain)
	}
	bulk := measure(t, benchBulk, routes)
	row(w, "bulk 1 MiB writes: MB/s", metric(bulk, "MB/s"), "%.0f")
	row(w, "bulk: process CPU µs/MiB", metric(bulk, "cpu-µs/MiB"), "%.0f")
	const idle = 2000
	var heap, rss, gor [4]float64
	for i, r := range routes {
		heap[i], rss[i], gor[i] = idleCost(t, r, idle)
	}
	perConn := func(v [4]float64) [4]float64 { return [4]float64{v[0], v[1] - v[0], v[2] - v[0], v[3] - v[0]} }
	row(w, fmt.Sprintf("%d idle conns: Go heap+stack KiB/conn (proxy share)", idle), perConn(heap), "%.1f")
	row(w, "idle: RSS KiB/conn (proxy share)", perConn(rss), "%.1f")
	row(w, "idle: goroutines/conn (proxy share)", perConn(gor), "%.1f")
	fmt.Fprintf(w, "load average after: %s\t\t\t\t\t\t\t\t\n", loadAvg())
	w.Flush()
	t.Logf("pass-through, no fault (GOMAXPROCS=%d, %s):\n%s", runtime.GOMAXPROCS(0), runtime.Version(), out.String())
}

// benchRounds is how many times measure runs each route (the rotation
// alternates them, and the medians are kept): CHAOSLOAD_BENCH_ROUNDS,
// default 3.
func benchRounds() int {
	n, err := strconv.Atoi(os.Getenv("CHAOSLOAD_BENCH_ROUNDS"))
	if err != nil || n < 1 {
		return 3
	}
	return n
}

// measure runs the benchmark on every route, benchRounds times in rotating
// order (so the machine's load changes hit every route alike), and returns
// per route the median of each reported metric, MB/s included when the
// benchmark set bytes.
//
// A round that failed (testing.Benchmark returns an empty result when the
// benchmark calls b.Fatal, and drops the message) fails the test and is
// left out of the medians, rather than counting as a zero that a median
// can hide: that is how a route delivering bytes twice went unseen.
func measure(t *testing.T, bench func(b *testing.B, r route), rs []route) []map[string]float64 {
	runs := make([]map[string][]float64, len(rs))
	for i := range runs {
		runs[i] = map[string][]float64{}
	}
	for round := range benchRounds() {
		for k := range rs {
			i := (k + round) % len(rs)
			r := testing.Benchmark(func(b *testing.B) { bench(b, rs[i]) })
			if r.N == 0 {
				t.Errorf("%s: round %d failed (run its benchmark alone with go test -bench to see why)", rs[i].name, round+1)
				continue
			}
			for unit, v := range r.Extra {
				runs[i][unit] = append(runs[i][unit], v)
			}
			if r.Bytes > 0 {
				runs[i]["MB/s"] = append(runs[i]["MB/s"], float64(r.Bytes)*float64(r.N)/r.T.Seconds()/1e6)
			}
		}
	}
	med := make([]map[string]float64, len(rs))
	for i, m := range runs {
		med[i] = map[string]float64{}
		for unit, vs := range m {
			slices.Sort(vs)
			med[i][unit] = vs[len(vs)/2]
		}
	}
	return med
}

// metric is one metric of the four routes (direct, sockmap, copy,
// toxiproxy).
func metric(res []map[string]float64, unit string) [4]float64 {
	return [4]float64{res[0][unit], res[1][unit], res[2][unit], res[3][unit]}
}

// row prints one measure with the ratios of the three proxies to direct.
func row(w *tabwriter.Writer, name string, v [4]float64, format string) {
	f := func(x float64) string { return fmt.Sprintf(format, x) }
	fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%.2f\t%.2f\t%.2f\t\n", name, f(v[0]), f(v[1]), f(v[2]), f(v[3]),
		v[1]/v[0], v[2]/v[0], v[3]/v[0])
}

// idleCost opens n connections through the route, does one 64-byte round
// trip on each, and returns what the process holds per connection then: Go
// heap and stacks in KiB, resident memory in KiB, and goroutines. The
// client's and the echo server's share is in every route; the direct route
// has only theirs.
func idleCost(t *testing.T, r route, n int) (heapKiB, rssKiB, goroutines float64) {
	up := serveTCP(t, echoLoop)
	addr := r.start(t, up.Addr())
	h0, rss0, g0 := memNow()
	conns := make([]net.Conn, n)
	for i := range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns[i] = c
		pingPong(t, c, 1)
	}
	h1, rss1, g1 := memNow()
	for _, c := range conns {
		c.Close()
	}
	up.Close()
	return float64(h1-h0) / 1024 / float64(n), float64(rss1-rss0) / 1024 / float64(n), float64(g1-g0) / float64(n)
}

// memNow returns the Go heap in use plus stacks, the resident set size, and
// the number of goroutines, after a collection that returns freed memory.
func memNow() (heap, rss int64, goroutines int) {
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse + ms.StackInuse), residentBytes(), runtime.NumGoroutine()
}

// residentBytes reads the process's resident set size from /proc.
func residentBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// plainRoute is the simplest Go proxy there is, a Read/Write loop per
// direction through a 32 KiB buffer, with no fault machinery: the floor a
// user-space proxy in Go sits on. The ratio printer compares chaosload's
// proxy CPU with it.
var plainRoute = route{"plain Go copy", startPlainProxy}

func startPlainProxy(tb testing.TB, upstream string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	tb.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", upstream)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, u)
			mu.Unlock()
			wg.Go(func() { plainCopy(u, c) })
			wg.Go(func() { plainCopy(c, u) })
		}
	})
	return ln.Addr().String()
}
