package host

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Paused is a process tree stopped with SIGSTOP until Resume.
type Paused struct {
	j     *Journal
	entry string
	pids  []int
}

// Pause stops pid and its descendants with SIGSTOP and returns once every
// one of them shows state T in /proc (or has exited). The guard resumes
// them should chaosload die before Resume. ctx bounds the wait; on error
// everything stopped is resumed.
func Pause(ctx context.Context, j *Journal, pid int) (*Paused, error) {
	if !Alive(pid) {
		return nil, fmt.Errorf("pause: no process %d", pid)
	}
	pids := Tree(pid)
	// recorded first: a crash between the SIGSTOP and the record must not
	// leave a stopped process nobody resumes
	undo := "kill -CONT" + pidList(pids) + " 2>/dev/null\n"
	entry, err := j.add(undo)
	if err != nil {
		return nil, fmt.Errorf("pause: %w", err)
	}
	p := &Paused{j: j, entry: entry, pids: pids}
	for _, q := range pids {
		if err := syscall.Kill(q, syscall.SIGSTOP); err != nil && !errors.Is(err, syscall.ESRCH) {
			return nil, errors.Join(fmt.Errorf("pause: stop pid %d: %w", q, err), p.Resume())
		}
	}
	if err := p.waitStopped(ctx); err != nil {
		return nil, errors.Join(err, p.Resume())
	}
	return p, nil
}

// waitStopped waits until no process of the tree is running.
func (p *Paused) waitStopped(ctx context.Context) error {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		running := 0
		for _, q := range p.pids {
			if st, err := State(q); err == nil && st != "T" && st != "t" && st != "Z" && st != "X" {
				running = q
				break
			}
		}
		if running == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pause: pid %d not stopped: %w", running, ctx.Err())
		case <-tick.C:
		}
	}
}

// PIDs are the processes paused, the root first.
func (p *Paused) PIDs() []int { return append([]int(nil), p.pids...) }

// Stopped counts the paused processes that show state T now.
func (p *Paused) Stopped() int {
	n := 0
	for _, q := range p.pids {
		if st, err := State(q); err == nil && (st == "T" || st == "t") {
			n++
		}
	}
	return n
}

// Resume sends SIGCONT to every paused process and drops the journal
// entry. It is idempotent.
func (p *Paused) Resume() error {
	if p.entry == "" {
		return nil
	}
	var errs []error
	for _, q := range p.pids {
		if err := syscall.Kill(q, syscall.SIGCONT); err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, fmt.Errorf("resume pid %d: %w", q, err))
		}
	}
	if len(errs) == 0 {
		errs = append(errs, p.j.done(p.entry))
		p.entry = ""
	}
	return errors.Join(errs...)
}

func pidList(pids []int) string {
	var b strings.Builder
	for _, p := range pids {
		b.WriteString(" " + strconv.Itoa(p))
	}
	return b.String()
}
