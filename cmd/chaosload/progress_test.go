package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/chaosload/chaosload/runner"
)

func snapshot(at time.Duration) runner.Progress {
	return runner.Progress{
		Elapsed: at, Total: 120 * time.Second, Phase: "fault", ActiveFaults: []string{"pg-connections-exhausted"},
		OpsPerSec: 198, P95: 3140 * time.Microsecond, ErrorRate: 0.401, VUs: 80, BusyVUs: 12,
	}
}

// TestProgressPlain: when stdout is not a terminal, a status line every 10 s
// of the run (not every second), a line per fault event, nothing in-place.
func TestProgressPlain(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	p := newProgress(&b, false)
	for s := 0; s <= 25; s++ {
		p.status(snapshot(time.Duration(s) * time.Second))
		if s == 12 {
			p.event(runner.Event{At: 12 * time.Second, Kind: "fault-applied", Fault: "slow", Message: "latency on api applied in 1ms"})
		}
	}
	p.done()
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	want := []string{
		"0.0s/120.0s  fault     faults: pg-connections-exhausted  198 ops/s  p95 3.1ms  errors 40.1%  VUs 80 (12 busy)",
		"10.0s/120.0s  fault     faults: pg-connections-exhausted  198 ops/s  p95 3.1ms  errors 40.1%  VUs 80 (12 busy)",
		"   12.0s  fault applied: slow latency on api applied in 1ms",
		"20.0s/120.0s  fault     faults: pg-connections-exhausted  198 ops/s  p95 3.1ms  errors 40.1%  VUs 80 (12 busy)",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), strings.Join(want, "\n"))
	}
	if strings.ContainsAny(b.String(), "\r\033") {
		t.Fatalf("control characters in plain output: %q", b.String())
	}
}

// TestProgressTerminal: on a terminal the status line is rewritten in place
// every second and cut to the terminal's width; an event or a log line
// clears it first so nothing lands in the middle of it.
func TestProgressTerminal(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	p := &progress{w: &b, tty: true, width: 40}
	p.status(snapshot(time.Second))
	p.status(snapshot(2 * time.Second))
	if got := strings.Count(b.String(), "\r\033[K"); got != 2 {
		t.Fatalf("%d in-place rewrites, want 2: %q", got, b.String())
	}
	last := b.String()[strings.LastIndex(b.String(), "\r\033[K")+4:]
	if n := len([]rune(last)); n >= 40 || !strings.HasSuffix(last, "…") {
		t.Fatalf("status line %q (%d columns) not cut to the 40-column terminal", last, n)
	}
	b.Reset()
	p.clearForLog()
	p.event(runner.Event{At: 3 * time.Second, Kind: "fault-reverted", Fault: "slow", Message: "reverted in 0s"})
	if b.String() != "\r\033[K    3.0s  fault reverted: slow reverted in 0s\n" {
		t.Fatalf("log clear + event: %q", b.String())
	}
}

// TestProgressQuiet: --quiet prints nothing at all.
func TestProgressQuiet(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	p := newProgress(&b, true)
	p.start("x", "x.yaml", time.Minute)
	p.status(snapshot(0))
	p.event(runner.Event{Kind: "fault-applied", Fault: "slow"})
	p.done()
	if b.Len() != 0 {
		t.Fatalf("quiet progress printed %q", b.String())
	}
}
