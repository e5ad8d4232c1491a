package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/chaosload/chaosload/runner"
)

// plainEvery is how often a status line is printed when stdout is not a
// terminal (a CI log): one line every 10 s of the run.
const plainEvery = 10 * time.Second

// progress prints what a run does while it runs, on stdout: a line per
// fault applied or reverted (and the abort), and a status line — elapsed
// of total, phase, active faults, ops/s, p95, error rate, VUs. On a
// terminal the status line is rewritten in place every second; otherwise a
// plain line is printed every 10 s of the run. Quiet prints nothing.
//
// On a terminal the logger (stderr, often the same screen) clears the
// status line before it writes, through clearForLog, so a log line never
// lands in the middle of it.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	quiet bool
	tty   bool
	// width is the terminal's width; the status line is cut to fit, since
	// a wrapped line cannot be rewritten in place.
	width int
	// lastPlain is the run time of the last plain status line; printed
	// says whether there was one.
	lastPlain time.Duration
	printed   bool
	open      bool // a status line is on screen without a newline
}

func newProgress(w io.Writer, quiet bool) *progress {
	p := &progress{w: w, quiet: quiet, tty: isTerminal(w)}
	if p.tty {
		p.width = terminalWidth(w)
	}
	return p
}

// start announces the experiment.
func (p *progress) start(name, file string, total time.Duration) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "chaosload: running %s (%s), %s of load\n", name, file, fmtSecs(total))
}

// note prints lines under the start line, indented: the fault episodes
// the run is judged in.
func (p *progress) note(lines []string) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range lines {
		fmt.Fprintf(p.w, "  %s\n", l)
	}
}

func (p *progress) event(e runner.Event) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLine()
	what := strings.TrimSpace(e.Fault + " " + e.Message)
	fmt.Fprintf(p.w, "%8s  %s: %s\n", fmtSecs(e.At), strings.ReplaceAll(e.Kind, "-", " "), what)
}

func (p *progress) status(s runner.Progress) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	line := statusLine(s)
	if p.tty {
		if p.width > 1 && len([]rune(line)) >= p.width {
			line = string([]rune(line)[:p.width-2]) + "…"
		}
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		p.open = true
		return
	}
	if p.printed && s.Elapsed-p.lastPlain < plainEvery {
		return
	}
	p.printed, p.lastPlain = true, s.Elapsed
	fmt.Fprintln(p.w, line)
}

// statusLine renders one snapshot:
// "42.0s/120.0s  fault  faults: pg-exhausted  198 ops/s  p95 3.1ms  errors 40.1%  VUs 80 (12 busy)".
func statusLine(s runner.Progress) string {
	faults := "none"
	if len(s.ActiveFaults) > 0 {
		faults = strings.Join(s.ActiveFaults, ",")
	}
	line := fmt.Sprintf("%s/%s  %-8s  faults: %s  %.0f ops/s  p95 %s  errors %.1f%%  VUs %d (%d busy)",
		fmtSecs(s.Elapsed), fmtSecs(s.Total), s.Phase, faults, s.OpsPerSec,
		s.P95.Round(100*time.Microsecond), s.ErrorRate*100, s.VUs, s.BusyVUs)
	if s.Dropped > 0 {
		line += fmt.Sprintf("  dropped %d", s.Dropped)
	}
	return line
}

// clearForLog clears the status line before a log line is written to the
// same terminal; the next status tick draws it again.
func (p *progress) clearForLog() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLine()
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
