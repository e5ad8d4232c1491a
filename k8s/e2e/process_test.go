package e2e

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// process is a program the test started, in its own process group, its
// output in files. It is stopped by its PID, never by name.
type process struct {
	name           string
	cmd            *exec.Cmd
	stdout, stderr string // paths
	done           chan struct{}
}

// startProcess starts argv in dir with env (nil: the test's own), its
// stdout and stderr in dir/NAME.out and dir/NAME.err.
func startProcess(dir, name string, env []string, argv ...string) (*process, error) {
	p := &process{name: name, done: make(chan struct{}),
		stdout: filepath.Join(dir, name+".out"), stderr: filepath.Join(dir, name+".err")}
	out, err := os.Create(p.stdout)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	errf, err := os.Create(p.stderr)
	if err != nil {
		out.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Dir, p.cmd.Env, p.cmd.Stdout, p.cmd.Stderr = dir, env, out, errf
	// Its own group, so that stop reaches its children too; and killed
	// with the test process should that die first.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	err = p.cmd.Start()
	out.Close()
	errf.Close()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() { // owned by p: stop waits for it
		_ = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// mustStart is startProcess, stopped when tb ends.
func mustStart(tb testing.TB, dir, name string, argv ...string) *process {
	tb.Helper()
	p, err := startProcess(dir, name, nil, argv...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.stop)
	return p
}

// stop ends the process: SIGTERM, and after 10 s SIGKILL to its whole
// group. It returns once the process has exited; stopping twice is fine.
func (p *process) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// exitCode is the process's exit code once it has exited, as a kubelet
// reports it: 128 + the signal for a process killed by one.
func (p *process) exitCode() int32 {
	<-p.done
	st := p.cmd.ProcessState
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int32(ws.Signal())
	}
	return int32(st.ExitCode())
}

// logs is the tail of the process's stderr and stdout, for a failure message.
func (p *process) logs() string {
	return fmt.Sprintf("--- %s stdout:\n%s\n--- %s stderr:\n%s", p.name, tail(p.stdout), p.name, tail(p.stderr))
}

// tail is the last 4 KiB of a file.
func tail(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(data) > 4096 {
		data = data[len(data)-4096:]
	}
	return string(data)
}

// freePort is a loopback port free a moment ago (the components take their
// port from a flag, so the test cannot hand them a listener).
func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(errors.Join(errors.New("find a free port"), err))
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
