package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/chaosload/chaosload/runner"
)

// progress prints what a run does while it runs: a line per fault applied or
// reverted, and a status line every second on a terminal (rewritten in place)
// or every 10 s otherwise.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	quiet bool
	tty   bool
	last  time.Time
	open  bool // a status line is on screen without a newline
}

func newProgress(w io.Writer, quiet bool) *progress {
	return &progress{w: w, quiet: quiet, tty: isTerminal(w)}
}

func (p *progress) event(e runner.Event) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLine()
	fmt.Fprintf(p.w, "%8s  %s: %s %s\n", fmtSecs(e.At), strings.ReplaceAll(e.Kind, "-", " "), e.Fault, e.Message)
}

func (p *progress) status(s runner.Progress) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.tty && time.Since(p.last) < 10*time.Second {
		return
	}
	p.last = time.Now()
	faults := "none"
	if len(s.ActiveFaults) > 0 {
		faults = strings.Join(s.ActiveFaults, ",")
	}
	line := fmt.Sprintf("%s/%s  %-8s faults: %s  %.0f ops/s  p95 %s  errors %.1f%%  VUs %d",
		fmtSecs(s.Elapsed), fmtSecs(s.Total), s.Phase, faults, s.OpsPerSec,
		s.P95.Round(100*time.Microsecond), s.ErrorRate*100, s.VUs)
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		p.open = true
		return
	}
	fmt.Fprintln(p.w, line)
}

func (p *progress) clearLine() {
	if p.open {
		fmt.Fprint(p.w, "\r\033[K")
		p.open = false
	}
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLine()
}

func fmtSecs(d time.Duration) string {
	return fmt.Sprintf("%.1fs", d.Seconds())
}
