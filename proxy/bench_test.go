package proxy_test

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"

	"github.com/chaosload/chaosload/proxy"
)

// Pass-through benchmarks with no fault: the same client and upstream, with
// the client connected directly, through chaosload's proxy, and through
// Toxiproxy v2.12.0's own Proxy embedded in the same process.
//
//	go test -run='^$' -bench=Passthrough -benchtime=2s ./proxy
//
// TestPrintPassthroughRatios (CHAOSLOAD_BENCH=1) runs them all and prints
// the ratios.

// route connects a benchmark's client to an upstream: it returns the
// address the client dials.
type route struct {
	name  string
	start func(tb testing.TB, upstream string) string
}

var routes = []route{
	{"direct", func(_ testing.TB, upstream string) string { return upstream }},
	{"sockmap", func(tb testing.TB, upstream string) string { // the copy path where the kernel does not allow it
		return startProxy(tb, proxy.Config{Name: "bench", Upstream: upstream}).Addr()
	}},
	{"copy", func(tb testing.TB, upstream string) string {
		return startProxy(tb, proxy.Config{Name: "bench", Upstream: upstream, NoSockmap: true}).Addr()
	}},
	{"toxiproxy", startToxiproxy},
}

// startToxiproxy starts Toxiproxy's own Proxy in front of upstream, as the
// a program embedding Toxiproxy as a library would; the cleanup stops it.
func startToxiproxy(tb testing.TB, upstream string) string {
	return startToxiproxyProxy(tb, upstream).Listen
}

// startToxiproxyProxy is startToxiproxy returning the Proxy, for toxics.
func startToxiproxyProxy(tb testing.TB, upstream string) *toxiproxy.Proxy {
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	p := toxiproxy.NewProxy(srv, "bench", "127.0.0.1:0", upstream)
	if err := p.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.Stop)
	return p
}

// pingPongConns are the numbers of connections the request/response
// benchmark drives at once: 1 measures the latency a proxy adds, 8 and 64
// its cost when the CPUs are busy.
var pingPongConns = []int{1, 8, 64}

// BenchmarkPassthroughPingPong: 64-byte echo round trips, one at a time on
// each of 8 connections. Reports requests/s and the whole process's CPU time
// per request (client, proxy and server together; the proxy's own share is
// the difference from direct).
func BenchmarkPassthroughPingPong(b *testing.B) {
	for _, n := range pingPongConns {
		for _, r := range routes {
			b.Run(fmt.Sprintf("conns=%d/%s", n, r.name), func(b *testing.B) { benchPingPong(b, r, n) })
		}
	}
}

func benchPingPong(b *testing.B, r route, nconns int) {
	up := serveTCP(b, echoLoop)
	addr := r.start(b, up.Addr())
	conns := make([]net.Conn, nconns)
	for i := range conns {
		conns[i] = dial(b, addr)
		pingPong(b, conns[i], 1) // connected all the way through
	}
	b.ReportAllocs()
	cpu0, busy0 := cpuTime(), machineBusy()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for i, c := range conns {
		n := b.N / nconns
		if i < b.N%nconns {
			n++
		}
		wg.Go(func() { pingPong(b, c, n) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/req")
	b.ReportMetric(float64((machineBusy()-busy0).Microseconds())/float64(b.N), "machine-µs/req")
}

// machineBusy is the time every CPU of the machine has spent not idle
// (/proc/stat: all but idle and iowait), whoever used it.
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	f := strings.Fields(strings.SplitN(string(b), "\n", 2)[0]) // cpu user nice system idle iowait irq softirq steal ...
	var ticks int64
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		if i != 3 && i != 4 && i < 8 {
			ticks += n
		}
	}
	return time.Duration(ticks) * 10 * time.Millisecond // USER_HZ = 100
}

// pingPong does n 64-byte round trips on c. It reports failures with
// tb.Error, which is safe from any goroutine.
func pingPong(tb testing.TB, c net.Conn, n int) {
	msg, got := make([]byte, 64), make([]byte, 64)
	for range n {
		if _, err := c.Write(msg); err != nil {
			tb.Error(err)
			return
		}
		if _, err := io.ReadFull(c, got); err != nil {
			tb.Error(err)
			return
		}
	}
}

// echoLoop echoes with a plain read/write loop (io.Copy would splice), so
// the upstream costs the same behind every route.
func echoLoop(_ *server, c net.Conn) { plainCopy(c, c) }

// plainCopy copies src to dst with Read and Write (io.Copy would splice),
// and closes dst when src ends.
func plainCopy(dst, src net.Conn) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// BenchmarkPassthroughBulk: one connection carries b.N MiB from the client
// to an upstream that counts and discards them, then acknowledges the total.
// The client announces the total first: Toxiproxy turns a half-close into a
// full close, so the end cannot be signalled with CloseWrite.
func BenchmarkPassthroughBulk(b *testing.B) {
	for _, r := range routes {
		b.Run(r.name, func(b *testing.B) { benchBulk(b, r) })
	}
}

func benchBulk(b *testing.B, r route) {
	up := serveTCP(b, sink)
	c := dial(b, r.start(b, up.Addr()))
	block := make([]byte, 1<<20)
	b.SetBytes(int64(len(block)))
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	var head [8]byte
	binary.BigEndian.PutUint64(head[:], uint64(b.N)*uint64(len(block)))
	if _, err := c.Write(head[:]); err != nil {
		b.Fatal(err)
	}
	for range b.N {
		if _, err := c.Write(block); err != nil {
			b.Fatal(err)
		}
	}
	var total [8]byte
	if _, err := io.ReadFull(c, total[:]); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if got := binary.BigEndian.Uint64(total[:]); got != uint64(b.N)*uint64(len(block)) {
		b.Fatalf("upstream received %d bytes, want %d", got, b.N*len(block))
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/MiB")
}

// sink reads a byte count (8 bytes, big endian), then that many bytes, and
// writes back how many it got.
func sink(_ *server, c net.Conn) {
	var head [8]byte
	if _, err := io.ReadFull(c, head[:]); err != nil {
		return
	}
	want := binary.BigEndian.Uint64(head[:])
	buf := make([]byte, 256<<10)
	var total uint64
	for total < want {
		n, err := c.Read(buf)
		total += uint64(n)
		if err != nil {
			break
		}
	}
	var out [8]byte
	binary.BigEndian.PutUint64(out[:], total)
	c.Write(out[:])
}

// cpuTime is the CPU time (user + system) the process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
