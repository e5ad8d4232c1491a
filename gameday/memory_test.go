//go:build manual

// A manual measuring tool, not a test: `go test ./...` does not build it,
// so the suite skips nothing. Run it with: CHAOSLOAD_BENCH=1 go test -tags manual -run TestLongSessionMemory -v ./gameday/

package gameday

import (
	"bufio"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/metrics"
)

// TestLongSessionMemory measures what a game day's recorder holds over
// eight hours of background load, compressed: simulated time (the results'
// intended starts) runs as fast as they can be recorded, with Compact and
// the dashboard's window once a simulated second, as the session's watcher
// does. It prints the process's RSS and the Go heap after each simulated
// hour, for the session's recorder (an hour at full resolution, the rest
// downsampled) and, for comparison, for one that keeps every interval.
// Opt-in (minutes of CPU):
//
//	CHAOSLOAD_BENCH=1 go test -run '^TestLongSessionMemory$' -v ./gameday/
//
// CHAOSLOAD_BENCH_RATE sets the results per simulated second;
// CHAOSLOAD_BENCH_LATE=1 makes every operation late by its generator and
// wait for a connection, so all five histograms of a busy cell fill.
func TestLongSessionMemory(t *testing.T) {
	if os.Getenv("CHAOSLOAD_BENCH") == "" {
		t.Skip("a benchmark: set CHAOSLOAD_BENCH=1")
	}
	rate := 1000 // results per simulated second
	if s := os.Getenv("CHAOSLOAD_BENCH_RATE"); s != "" {
		rate, _ = strconv.Atoi(s)
	}
	for _, c := range []struct {
		name string
		cfg  metrics.Config
	}{{"session (1 h full resolution, then downsampled)", recorderConfig(0)}, {"every interval kept", metrics.Config{}}} {
		t.Logf("%s, %d results/s over 20 series:", c.name, rate)
		t.Logf("%6s %10s %10s %10s %9s", "hour", "RSS MiB", "heap MiB", "intervals", "step")
		simulate(t, metrics.NewRecorder(c.cfg), 8, rate, os.Getenv("CHAOSLOAD_BENCH_LATE") != "")
	}
}

// simulate records hours of the modelled load into r and logs the memory
// after each hour; late fills every timing.
func simulate(t *testing.T, r *metrics.Recorder, hours, rate int, late bool) {
	rng := rand.New(rand.NewPCG(1, 1))
	classes := []string{"", "", "", "", "", "", "", "", load.ClassTimeout, load.ClassHTTP503}
	var res load.Result
	for sec := range hours * 3600 {
		for i := range rate {
			at := time.Duration(sec)*time.Second + time.Duration(i)*time.Second/time.Duration(rate)
			lat := time.Duration(math.Exp(rng.NormFloat64()*0.6) * float64(20*time.Millisecond))
			s := i % 20
			res = load.Result{Scenario: scenarioNames[s%2], Step: stepNames[s/2%2], Protocol: load.HTTP, Target: "api",
				Class: classes[s/4%5*2+s%2], Intended: at, Start: at, End: at + lat}
			if late { // every timing filled: the generator's own lateness, then a wait for a connection
				own := time.Duration(math.Exp(rng.NormFloat64()) * float64(time.Millisecond))
				wait := time.Duration(math.Exp(rng.NormFloat64()) * float64(500*time.Microsecond))
				res.Dispatched, res.Start, res.End = at+own, at+own+wait, at+own+wait+lat
			}
			r.Record(&res)
		}
		r.Compact()
		now := time.Duration(sec+1) * time.Second
		r.Window(now-time.Second, now, metrics.Selector{Target: "api"}) // the dashboard's
		if (sec+1)%3600 == 0 {
			runtime.GC()
			debug.FreeOSMemory()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			t.Logf("%6d %10.1f %10.1f %10d %9v", (sec+1)/3600, float64(rss(t))/(1<<20), float64(ms.HeapInuse)/(1<<20), r.Retained(), r.Step())
		}
	}
}

var (
	scenarioNames = []string{"scenario0", "scenario1"}
	stepNames     = []string{"step0", "step1"}
)

// rss reads the process's resident set size from /proc.
func rss(t *testing.T) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status: RSS is read from Linux's /proc")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(v), " kB"), &kb)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}
