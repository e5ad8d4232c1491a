package httpload

import (
	"context"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/chaosload/chaosload/load"
)

// BenchmarkDo measures one keep-alive GET against a loopback server through
// the driver, server time included (both share the machine's cores).
func BenchmarkDo(b *testing.B) {
	b.ReportAllocs()
	srv := serve(b, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"id":1}`)) })
	d := newDriver(b, Config{})
	vu := newVU()
	step := get(srv.URL)
	ctx := context.Background()
	var res load.Result
	b.ResetTimer()
	for range b.N {
		res = load.Result{Start: -1, End: -1}
		d.Do(ctx, vu, step, &res)
		if !res.OK() {
			b.Fatal(res.Err)
		}
	}
}

// BenchmarkClient measures the driver alone (no executor) with its own
// HTTP/1.1 client and with net/http: BENCH_CONNS goroutines (default 50)
// call Do back to back against BENCH_URL (bench/http.sh passes its
// bench/httpserver), or against a loopback net/http server when unset.
// It reports requests/s and the process's CPU (user+sys) per request, the
// figure that decides whether the own client earns its keep.
func BenchmarkClient(b *testing.B) {
	url := os.Getenv("BENCH_URL")
	if url == "" {
		url = serve(b, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }).URL
	}
	conns := 50
	if n, err := strconv.Atoi(os.Getenv("BENCH_CONNS")); err == nil && n > 0 {
		conns = n
	}
	for _, m := range plainModes {
		b.Run(m.name, func(b *testing.B) { benchClient(b, Config{NetHTTP: m.netHTTP}, url, conns) })
	}
}

// benchClient runs b.N requests of one GET step from conns goroutines.
func benchClient(b *testing.B, cfg Config, url string, conns int) {
	d := newDriver(b, cfg)
	step := get(url)
	var next atomic.Int64
	cpu0 := cpuTime(b)
	b.ResetTimer()
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			vu := newVU()
			ctx := context.Background()
			for next.Add(1) <= int64(b.N) {
				res := load.Result{Start: -1, End: -1}
				d.Do(ctx, vu, step, &res)
				if !res.OK() {
					b.Error(res.Err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-µs/req")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// cpuTime returns the process's user+sys CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
