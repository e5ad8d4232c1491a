package supervise

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"time"
)

// ErrExited is wrapped by WaitReady's and WaitLog's error when the process
// exited before it was ready; the error also carries how it ended and the
// tail of its log.
var ErrExited = errors.New("exited before it was ready")

// pollEvery is how often WaitReady checks and WaitLog reads the log.
const pollEvery = 20 * time.Millisecond

// A Check reports whether a process is ready to serve: nil when it is, else
// why not. It must return by ctx's deadline.
type Check func(ctx context.Context) error

// TCP is ready when a connection to addr (host:port) is accepted.
func TCP(addr string) Check {
	return func(ctx context.Context) error {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		return conn.Close()
	}
}

// HTTP is ready when a GET of url answers with a 2xx status.
func HTTP(url string) Check {
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		return nil
	}
}

// WaitReady runs check every 20 ms (each attempt bounded by a second) until
// it passes, the process exits (an error wrapping ErrExited, with the log's
// tail), or ctx ends (an error with the last check's error and the log's
// tail).
func (p *Process) WaitReady(ctx context.Context, check Check) error {
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	var last error // the last check's error, unless ctx cut that check short
	for {
		attempt, cancel := context.WithTimeout(ctx, time.Second)
		err := check(attempt)
		cancel()
		if err == nil {
			return nil
		}
		if last == nil || ctx.Err() == nil {
			last = err
		}
		select {
		case <-p.exited:
			return p.exitedErr()
		case <-ctx.Done():
			return p.notReady(ctx, last)
		case <-tick.C:
		}
	}
}

// WaitLog reads the process's log as it grows until a line matches re and
// returns the line's submatches (FindStringSubmatch), for a process that
// announces readiness, or the address it chose, on its output. It fails
// like WaitReady when the process exits first or ctx ends.
func (p *Process) WaitLog(ctx context.Context, re *regexp.Regexp) ([]string, error) {
	f, err := os.Open(p.spec.Log)
	if err != nil {
		return nil, fmt.Errorf("%s: read log: %w", p.spec.Name, err)
	}
	defer f.Close()
	if _, err := f.Seek(p.logFrom, io.SeekStart); err != nil {
		return nil, fmt.Errorf("%s: read log: %w", p.spec.Name, err)
	}
	r := bufio.NewReader(f)
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	var partial string
	for {
		exited := p.hasExited() // read once more after an exit: its last words count
		for {
			chunk, err := r.ReadString('\n')
			if err != nil { // io.EOF: no complete line yet
				partial += chunk
				break
			}
			if m := re.FindStringSubmatch(partial + chunk); m != nil {
				return m, nil
			}
			partial = ""
		}
		if exited {
			if m := re.FindStringSubmatch(partial); m != nil {
				return m, nil
			}
			return nil, p.exitedErr()
		}
		select {
		case <-ctx.Done():
			return nil, p.notReady(ctx, fmt.Errorf("no line matching %q in its log", re))
		case <-p.exited:
		case <-tick.C:
		}
	}
}

func (p *Process) hasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

func (p *Process) exitedErr() error {
	return fmt.Errorf("%s (pid %d) %w (%v); log %s: %s", p.spec.Name, p.PID(), ErrExited, p.waitErr, p.spec.Log, p.Tail())
}

func (p *Process) notReady(ctx context.Context, last error) error {
	return fmt.Errorf("%s (pid %d) not ready: %w (last: %v); log %s: %s", p.spec.Name, p.PID(), ctx.Err(), last, p.spec.Log, p.Tail())
}
