package demo

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// process is a server this package started: in its own process group (so a
// Ctrl-C at the terminal reaches chaosload, which stops it in order), with a
// parent-death signal (so a crashed chaosload does not leave it running),
// output in a log file (so no copying goroutines outlive it), and one
// goroutine that reaps it.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{} // closed once the process has exited and been reaped
	waitErr error         // Wait's result; read only after exited is closed
}

// startProcess starts cmd with its stdout and stderr written to logPath,
// running as cred when non-nil. deathSig reaches the process if chaosload
// dies first.
func startProcess(name string, cmd *exec.Cmd, logPath string, cred *syscall.Credential, deathSig syscall.Signal) (*process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s: open log file: %w", name, err)
	}
	defer logFile.Close() // the child holds its own copy of the descriptor
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: deathSig, Credential: cred}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: start %s: %w", name, cmd.Path, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// pid is the process id of the started process.
func (p *process) pid() int { return p.cmd.Process.Pid }

// stop sends sig, waits up to grace for the process to exit, then kills its
// whole process group (the group id is the pid this package started) and
// waits for it to be reaped.
func (p *process) stop(sig syscall.Signal, grace time.Duration) error {
	select {
	case <-p.exited:
		return nil
	default:
	}
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("%s: signal pid %d: %w", p.name, p.pid(), err)
	}
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-p.exited:
		return nil
	case <-timer.C:
	}
	_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
	<-p.exited // SIGKILL cannot be ignored: the wait is short
	return fmt.Errorf("%s: pid %d ignored %v for %v and was killed", p.name, p.pid(), sig, grace)
}

// tail returns the last lines of the process's log, for error messages.
func (p *process) tail() string { return tailFile(p.logPath, 2048) }

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

// lastBytes returns the end of s, at most n bytes.
func lastBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// freePort returns a loopback TCP port that was free a moment ago. Another
// process may take it before the caller binds it; callers retry on a bind
// failure.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free loopback port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// unprivileged returns the credential to run a server as: nil when
// chaosload is not root, else the named account (default "nobody"), since
// PostgreSQL refuses to run as root.
func unprivileged(name string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	if name == "" {
		name = "nobody"
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("running as root, so PostgreSQL must run as an unprivileged user: look up user %q: %w", name, err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("user %q: parse uid/gid: %w", name, err)
	}
	if uid == 0 {
		return nil, fmt.Errorf("user %q is root; PostgreSQL needs an unprivileged user", name)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

// chownDir gives a directory to cred's user (a no-op when cred is nil).
func chownDir(dir string, cred *syscall.Credential) error {
	if cred == nil {
		return nil
	}
	if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
		return fmt.Errorf("give %s to uid %d: %w", dir, cred.Uid, err)
	}
	return nil
}
