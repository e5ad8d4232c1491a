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
	// created or truncated (appended to when AppendLog is set: a restarted
	// process keeps its predecessors' lines). It stays after the process
	// exits.
	Log       string
	AppendLog bool
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
	// logFrom is where this process's output begins in the log (non-zero
	// when AppendLog kept earlier lines); WaitLog reads from there.
	logFrom int64

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
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if c.AppendLog {
		flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	}
	logFile, err := os.OpenFile(c.Log, flags, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s: open log file: %w", c.Name, err)
	}
	defer logFile.Close() // the child holds its own copy of the descriptor
	var logFrom int64
	if st, err := logFile.Stat(); err == nil {
		logFrom = st.Size()
	}
	cmd := exec.Command(c.Path, c.Args...)
	cmd.Env, cmd.Dir = c.Env, c.Dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: c.DeathSignal, Credential: c.Credential}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: start %s: %w", c.Name, c.Path, err)
	}
	p := &Process{cmd: cmd, spec: c, exited: make(chan struct{}), logFrom: logFrom}
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

// Signal sends sig to the process (its leader only, not its group). A
// process that has exited already is not an error: os.ErrProcessDone is
// returned as nil and the process is left alone (its PID may be reused).
func (p *Process) Signal(sig syscall.Signal) error {
	if p.hasExited() {
		return nil
	}
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("%s: signal pid %d with %v: %w", p.spec.Name, p.PID(), sig, err)
	}
	return nil
}

// KillLeftovers kills, with SIGKILL, what is left of the process's group
// once the process itself has exited: workers it forked that outlived it
// (a crashed server's children still holding its port). It waits for the
// process to exit first. No leftovers is not an error. The group id cannot
// have been reused: Linux hands out no PID still in use as a group id.
func (p *Process) KillLeftovers() error {
	<-p.exited
	if err := syscall.Kill(-p.PID(), syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("%s: kill what is left of process group %d: %w", p.spec.Name, p.PID(), err)
	}
	return nil
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
