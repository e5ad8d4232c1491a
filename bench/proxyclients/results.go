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
// per tool, party and route the CPU time per request of every round.
type results struct {
	rate map[string]*[nRoutes][]float64 // measure → route → rounds
	cpu  map[string]*[nRoutes][]float64 // "tool: party" → route → µs per request
}

func newResults() *results {
	return &results{rate: map[string]*[nRoutes][]float64{}, cpu: map[string]*[nRoutes][]float64{}}
}

func (r *results) add(tool string, route int, rates map[string]float64, used cpu, requests int) {
	for m, v := range rates {
		r.put(r.rate, m, route, v)
	}
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(max(requests, 1)) }
	r.put(r.cpu, tool+": client", route, per(used.client))
	r.put(r.cpu, tool+": proxy", route, per(used.proxy))
	r.put(r.cpu, tool+": server", route, per(used.server))
}

func (r *results) put(m map[string]*[nRoutes][]float64, key string, route int, v float64) {
	if m[key] == nil {
		m[key] = &[nRoutes][]float64{}
	}
	m[key][route] = append(m[key][route], v)
}

// print writes the medians and the ratios, then the CPU time per request
// of each party, and what they imply: when client and server already keep
// the cores busy, a proxy costing p per request on top of their c + s can
// give at best (c + s) / (c + s + p) of the direct rate.
func (r *results) print(out io.Writer, cfg config) {
	fmt.Fprintf(out, "real clients, no fault: medians of %d rounds (GOMAXPROCS=%d, load %s)\n",
		cfg.rounds, runtime.GOMAXPROCS(0), loadAvg())
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "measure\tdirect\tsockmap\tcopy\ttoxiproxy\tsockmap/direct\tcopy/direct\ttoxiproxy/direct\t")
	for _, m := range sortedKeys(r.rate) {
		v := medians(r.rate[m])
		fmt.Fprintf(w, "%s (per s)\t%.0f\t%.0f\t%.0f\t%.0f\t%.2f\t%.2f\t%.2f\t\n", m, v[0], v[1], v[2], v[3], v[1]/v[0], v[2]/v[0], v[3]/v[0])
	}
	for _, tool := range []string{"pg", "redis"} {
		c, p, s := medians(r.cpu[tool+": client"]), medians(r.cpu[tool+": proxy"]), medians(r.cpu[tool+": server"])
		fmt.Fprintf(w, "%s: client CPU µs/request\t%.1f\t%.1f\t%.1f\t%.1f\t\t\t\t\n", tool, c[0], c[1], c[2], c[3])
		fmt.Fprintf(w, "%s: server CPU µs/request\t%.1f\t%.1f\t%.1f\t%.1f\t\t\t\t\n", tool, s[0], s[1], s[2], s[3])
		fmt.Fprintf(w, "%s: proxy CPU µs/request\t%.1f\t%.1f\t%.1f\t%.1f\t\t\t\t\n", tool, p[0], p[1], p[2], p[3])
		cs := c[0] + s[0]
		fmt.Fprintf(w, "%s: CPU-bound ceiling (c+s)/(c+s+p)\t\t\t\t\t%.2f\t%.2f\t%.2f\t\n", tool, cs/(cs+p[1]), cs/(cs+p[2]), cs/(cs+p[3]))
	}
	w.Flush()
	fmt.Fprintf(out, "(redis-benchmark -t get,set -n %d -c %d; pgbench -S -c %d -j 2 -T %d, scale 1; proxy CPU in the direct column is this process idling; the kernel's sockmap work runs in softirq and kworker threads, counted in no process)\n",
		cfg.redisRequests, cfg.redisClients, cfg.pgClients, cfg.pgSeconds)
}

func medians(v *[nRoutes][]float64) [nRoutes]float64 {
	var m [nRoutes]float64
	for i, xs := range v {
		s := slices.Clone(xs)
		slices.Sort(s)
		if len(s) > 0 {
			m[i] = s[len(s)/2]
		}
	}
	return m
}

func sortedKeys(m map[string]*[nRoutes][]float64) []string {
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
