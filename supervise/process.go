package supervise

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Command is a process to start. Path, Name and Log are required; the zero
// value of every other field is its documented default.
type Command struct {
	// Name names the process in errors ("postgres", "demo service").
	Name string
	// Path is the program to run; Args its arguments, without the program
	// name (no shell is involved).
	Path string
	Args []string
	// Env is the whole environment of the process. Default (nil): chaosload's own.
	Env []string
	// Dir is the working directory. Default: chaosload's.
	Dir string
	// Log is the file that receives the process's stdout and stderr,
	// created or truncated. It stays after the process exits.
	Log string
	// Credential runs the process as another user (PostgreSQL refuses to
	// run as root). Default: chaosload's user.
	Credential *syscall.Credential
	// DeathSignal reaches the process when chaosload dies without stopping
	// it. Default SIGKILL.
	DeathSignal syscall.Signal
	// StopSignal is what Stop sends first. Default SIGTERM.
	StopSignal syscall.Signal
	// StopGrace is how long Stop waits after StopSignal before it kills the
	// process group. Default 10 s.
	StopGrace time.Duration
}

// Process is a started process. Its methods are safe for concurrent use.
type Process struct {
	cmd     *exec.Cmd
	spec    Command
	exited  chan struct{} // closed once the process has exited and been reaped
	waitErr error         // Wait's result; read only after exited is closed

	stopOnce sync.Once
	stopErr  error
}

// Start starts c in a process group of its own (the group id is its PID)
// with c.DeathSignal as its parent-death signal and its output going to
// c.Log, and starts the one goroutine that waits for it. It does not wait
// for the process to be ready: see WaitReady and WaitLog.
func Start(c Command) (*Process, error) {
	if c.Path == "" || c.Name == "" || c.Log == "" {
		return nil, errors.New("supervise: Command.Name, Path and Log are required")
	}
	c = c.withDefaults()
	logFile, err := os.OpenFile(c.Log, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s: open log file: %w", c.Name, err)
	}
	defer logFile.Close() // the child holds its own copy of the descriptor
	cmd := exec.Command(c.Path, c.Args...)
	cmd.Env, cmd.Dir = c.Env, c.Dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: c.DeathSignal, Credential: c.Credential}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: start %s: %w", c.Name, c.Path, err)
	}
	p := &Process{cmd: cmd, spec: c, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

func (c Command) withDefaults() Command {
	if c.DeathSignal == 0 {
		c.DeathSignal = syscall.SIGKILL
	}
	if c.StopSignal == 0 {
		c.StopSignal = syscall.SIGTERM
	}
	if c.StopGrace == 0 {
		c.StopGrace = 10 * time.Second
	}
	return c
}

// PID is the process id (and its process group id).
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Name is Command.Name.
func (p *Process) Name() string { return p.spec.Name }

// LogPath is the file holding the process's output.
func (p *Process) LogPath() string { return p.spec.Log }

// Done is closed once the process has exited and been reaped, whether it
// was stopped or exited by itself.
func (p *Process) Done() <-chan struct{} { return p.exited }

// ExitErr is how the process ended (nil for exit status 0; an
// *exec.ExitError otherwise). It blocks until Done is closed.
func (p *Process) ExitErr() error {
	<-p.exited
	return p.waitErr
}

// Stop sends StopSignal, waits up to StopGrace for the process to exit,
// then kills its whole process group with SIGKILL and waits for it to be
// reaped. It returns an error when the process had to be killed or could
// not be signalled, nil when it was gone already or stopped in time. It is
// idempotent: later calls return the first call's result.
func (p *Process) Stop() error {
	p.stopOnce.Do(func() { p.stopErr = p.stop() })
	return p.stopErr
}

func (p *Process) stop() error {
	select {
	case <-p.exited:
		return nil
	default:
	}
	sig, grace := p.spec.StopSignal, p.spec.StopGrace
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("%s: signal pid %d: %w", p.spec.Name, p.PID(), err)
	}
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-p.exited:
		return nil
	case <-timer.C:
	}
	// The leader was running a moment ago, so the group id is still its
	// own (a PID is reused only once its process and group are gone).
	_ = syscall.Kill(-p.PID(), syscall.SIGKILL)
	<-p.exited // SIGKILL cannot be ignored: the wait is short
	return fmt.Errorf("%s: pid %d ignored %v for %v and was killed", p.spec.Name, p.PID(), sig, grace)
}

// tailBytes is how much of the log Tail returns.
const tailBytes = 2048

// Tail returns the end of the process's log (its last 2 KB, trimmed), for
// error messages; "" when the log cannot be read.
func (p *Process) Tail() string { return tailFile(p.spec.Log, tailBytes) }

// tailFile returns up to the last n bytes of a file, trimmed, or "" when it
// cannot be read.
func tailFile(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > n {
		_, _ = f.Seek(st.Size()-n, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	return strings.TrimSpace(string(b))
}
