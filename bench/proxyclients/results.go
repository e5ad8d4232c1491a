package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// results collects, per measure and route, the rate of every round, and
// per tool and route the proxy's CPU time per request of every round.
type results struct {
	rate map[string]*[3][]float64 // measure → route → rounds
	cpu  map[string]*[3][]float64 // tool → route → µs per request
}

func newResults() *results {
	return &results{rate: map[string]*[3][]float64{}, cpu: map[string]*[3][]float64{}}
}

func (r *results) add(tool string, route int, rates map[string]float64, cpu time.Duration, requests int) {
	for m, v := range rates {
		if r.rate[m] == nil {
			r.rate[m] = &[3][]float64{}
		}
		r.rate[m][route] = append(r.rate[m][route], v)
	}
	if r.cpu[tool] == nil {
		r.cpu[tool] = &[3][]float64{}
	}
	r.cpu[tool][route] = append(r.cpu[tool][route], float64(cpu.Microseconds())/float64(max(requests, 1)))
}

// print writes the medians and the ratios.
func (r *results) print(out io.Writer, cfg config) {
	fmt.Fprintf(out, "real clients, no fault: medians of %d rounds (GOMAXPROCS=%d, load %s)\n",
		cfg.rounds, runtime.GOMAXPROCS(0), loadAvg())
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "measure\tdirect\tchaosload\ttoxiproxy\tchaosload/direct\ttoxiproxy/direct\tchaosload/toxiproxy\t")
	for _, m := range sortedKeys(r.rate) {
		v := medians(r.rate[m])
		fmt.Fprintf(w, "%s (per s)\t%.0f\t%.0f\t%.0f\t%.2f\t%.2f\t%.2f\t\n", m, v[0], v[1], v[2], v[1]/v[0], v[2]/v[0], v[1]/v[2])
	}
	for _, t := range sortedKeys(r.cpu) {
		v := medians(r.cpu[t])
		fmt.Fprintf(w, "%s: proxy process CPU µs/request\t%.1f\t%.1f\t%.1f\t\t\t%.2f\t\n", t, v[0], v[1], v[2], v[1]/v[2])
	}
	w.Flush()
	fmt.Fprintf(out, "(redis-benchmark -t get,set -n %d -c %d; pgbench -S -c %d -j 2 -T %d, scale 1; the direct column of CPU is this process idling)\n",
		cfg.redisRequests, cfg.redisClients, cfg.pgClients, cfg.pgSeconds)
}

func medians(v *[3][]float64) [3]float64 {
	var m [3]float64
	for i, xs := range v {
		s := slices.Clone(xs)
		slices.Sort(s)
		if len(s) > 0 {
			m[i] = s[len(s)/2]
		}
	}
	return m
}

func sortedKeys(m map[string]*[3][]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// loadAvg is the machine's 1, 5 and 15 minute load averages.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
