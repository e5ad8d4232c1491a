package runner

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/load/pgload"
	"github.com/chaosload/chaosload/metrics"
)

// probes runs the experiment's `probes:` beside the load: each probe in
// its own goroutine, one attempt every probe's period, every attempt
// recorded in rec as an operation whose step is the probe's name (a
// failure has a class), so slo reads probe_ok and probe_latency from it.
//
// Attempts are timed from their intended start on the run's clock, like
// the load's operations: a probe stuck behind a slow attempt shows the
// wait.
type probes struct {
	rec   *metrics.Recorder
	clock load.Clock
	list  []config.Probe
	dsn   func(target string) string

	http *http.Client
	pg   *pgload.Driver
	wg   sync.WaitGroup
}

func newProbes(exp *config.Experiment, clock load.Clock) *probes {
	return &probes{
		rec: metrics.NewRecorder(metrics.Config{}), clock: clock, list: exp.Probes,
		dsn: func(name string) string {
			if t := exp.Target(name); t != nil {
				return t.DSN
			}
			return ""
		},
		http: &http.Client{},
		pg:   pgload.New(pgload.Config{}),
	}
}

// start starts every probe; they run until ctx ends. wait waits for them.
func (p *probes) start(ctx context.Context) {
	for i := range p.list {
		pr := &p.list[i]
		p.wg.Go(func() { p.loop(ctx, pr) })
	}
}

// wait waits for the probe loops to end (after their ctx) and releases
// their connections.
func (p *probes) wait() {
	p.wg.Wait()
	p.http.CloseIdleConnections()
	p.pg.Close()
}

// loop runs one probe every period until ctx ends. An attempt that
// outlasts its period delays the next (a probe never overlaps itself).
func (p *probes) loop(ctx context.Context, pr *config.Probe) {
	every := pr.EveryOrDefault()
	vu := &load.VU{ID: 1, Clock: p.clock, State: map[any]any{}, Rand: rand.New(rand.NewPCG(1, 2))}
	next := p.clock.Now()
	for {
		res := &load.Result{Step: pr.Name, Scenario: "probes", Protocol: load.Protocol(pr.Kind()),
			Intended: next, Dispatched: p.clock.Now(), Start: -1, End: -1}
		p.attempt(ctx, vu, pr, res)
		if ctx.Err() != nil {
			return // an attempt cut short by the end of the run is not a failure
		}
		p.rec.Record(res)
		next += every
		if now := p.clock.Now(); next < now {
			next = now
		}
		t := time.NewTimer(time.Until(p.clock.At(next)))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// attempt runs one probe attempt into res.
func (p *probes) attempt(ctx context.Context, vu *load.VU, pr *config.Probe, res *load.Result) {
	ctx, cancel := context.WithTimeout(ctx, pr.TimeoutOrDefault())
	defer cancel()
	res.Start = p.clock.Now()
	var err error
	switch pr.Kind() {
	case "http":
		err = p.httpGet(ctx, pr, res)
	case "tcp":
		var c net.Conn
		c, err = (&net.Dialer{}).DialContext(ctx, "tcp", pr.TCP)
		if err == nil {
			_ = c.Close()
		}
	default:
		step := &load.Step{Name: pr.Name, PG: &load.PGStatement{DSN: p.dsn(pr.Target), Query: pr.SQL,
			Timeout: pr.TimeoutOrDefault(), PoolSize: 1}}
		p.pg.Do(ctx, vu, step, res)
	}
	if res.End < 0 {
		res.End = p.clock.Now()
	}
	if err != nil && res.Class == "" {
		res.Class, res.Err = load.ClassOf(err), err
	}
}

// httpGet GETs the probe's URL; a status other than the expected one is a
// failure of class http_NNN.
func (p *probes) httpGet(ctx context.Context, pr *config.Probe, res *load.Result) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, pr.HTTP, nil)
	if err != nil {
		return err
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	res.End, res.Status = p.clock.Now(), resp.StatusCode
	expect := pr.Expect
	if expect == 0 {
		expect = http.StatusOK
	}
	if resp.StatusCode != expect {
		res.Class = fmt.Sprintf("http_%d", resp.StatusCode)
		res.Err = fmt.Errorf("probe %q: status %d, want %d", pr.Name, resp.StatusCode, expect)
	}
	return nil
}

// ProbeResult sums up one probe over the whole run.
type ProbeResult struct {
	Name string `json:"name"`
	// Kind is http, tcp or sql; Target what it checked.
	Kind   string `json:"kind"`
	Target string `json:"target"`
	// Attempts and OK count the attempts and those that succeeded.
	Attempts int64 `json:"attempts"`
	OK       int64 `json:"ok"`
	// OKRate is OK / Attempts; P50MS and P95MS the attempts' latency.
	OKRate float64 `json:"ok_rate"`
	P50MS  float64 `json:"p50_ms"`
	P95MS  float64 `json:"p95_ms"`
	// ByClass counts the failures by class.
	ByClass map[string]int64 `json:"by_class,omitempty"`
}

// results sums up every probe.
func (p *probes) results(end time.Duration) []ProbeResult {
	var out []ProbeResult
	for _, pr := range p.list {
		a := p.rec.Window(0, end+time.Hour, metrics.Selector{Step: pr.Name})
		r := ProbeResult{Name: pr.Name, Kind: pr.Kind(), Attempts: a.Ops, OK: a.Ops - a.Errors, ByClass: a.ByClass}
		switch r.Kind {
		case "http":
			r.Target = pr.HTTP
		case "tcp":
			r.Target = pr.TCP
		default:
			r.Target = pr.Target + ": " + pr.SQL
		}
		if a.Ops > 0 {
			r.OKRate = float64(r.OK) / float64(a.Ops)
		}
		if a.Latency != nil && a.Latency.TotalCount() > 0 {
			r.P50MS = ms(metrics.Micros(a.Latency.ValueAtQuantile(50)))
			r.P95MS = ms(metrics.Micros(a.Latency.ValueAtQuantile(95)))
		}
		out = append(out, r)
	}
	return out
}
