package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chaosload/chaosload/demo"
	"github.com/chaosload/chaosload/runner"
)

// The end-to-end tests run the chaosload binary as a user does. It is built
// once per test run (plain `go build`, without -race: the race detector
// slows the load generator and the demo service several times over, and a
// run would then measure the detector), into a temporary directory that
// TestMain removes. The end-to-end tests run one at a time (none calls
// t.Parallel): each brings up its own stack and load, and two at once on a
// 2-core machine would measure each other. They share nothing but the
// binary. In-process run(...) stays for the cheap tests: flags, settings,
// validation, reports from fixtures.

// built is the binary, built on first use.
var built struct {
	once sync.Once
	dir  string // removed by TestMain
	path string
	err  error
}

func TestMain(m *testing.M) {
	demo.RunServiceIfChild() // a demo stack started in-process re-executes this binary as its service
	code := m.Run()
	if built.dir != "" {
		if err := os.RemoveAll(built.dir); err != nil {
			fmt.Fprintln(os.Stderr, "remove the built binary:", err)
		}
	}
	os.Exit(code)
}

// chaosloadBinary builds the binary on its first call and returns its path.
func chaosloadBinary(tb testing.TB) string {
	tb.Helper()
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "chaosload-e2e-")
		if built.err != nil {
			return
		}
		built.path = filepath.Join(built.dir, "chaosload")
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = "/usr/local/go/bin/go"
		}
		if out, err := exec.Command(goTool, "build", "-o", built.path, ".").CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		tb.Fatal(built.err)
	}
	return built.path
}

// skipShort skips an end-to-end test under go test -short: the one mode
// that leaves them out (for a quick check while editing).
func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: end-to-end tests run the built binary for seconds to a minute each")
	}
}

// hangLimit bounds one run of the binary: far beyond what any end-to-end
// run takes, it only turns a hang into a failure.
const hangLimit = 5 * time.Minute

// e2eRun is what one run of the binary gave.
type e2eRun struct {
	code           int
	stdout, stderr string
	// out is the run's --json result, nil when it wrote none.
	out *runner.Outcome
}

// chaosload runs the binary with args, the variables of env added to the
// test's environment, and returns its exit code and output.
func chaosload(t *testing.T, env []string, args ...string) e2eRun {
	t.Helper()
	skipShort(t)
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, chaosloadBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	// A hung run is interrupted as a user would (it reverts its faults and
	// stops its stack), then killed if it still does not end.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 30 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := e2eRun{code: exitCodeOf(err), stdout: stdout.String(), stderr: stderr.String()}
	if ctx.Err() != nil {
		t.Fatalf("chaosload %s: still running after %v (a hang)\n%s\n%s", strings.Join(args, " "), hangLimit, r.stdout, r.stderr)
	}
	if r.code < 0 {
		t.Fatalf("chaosload %s: %v\n%s", strings.Join(args, " "), err, r.stderr)
	}
	return r
}

// exitCodeOf is the exit code of a finished command, -1 when it did not
// run or was killed by a signal.
func exitCodeOf(err error) int {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	return -1
}

// runExperiment runs `chaosload run FILE --quiet --json RESULT` with extra
// arguments and env, and reads the result; a run that wrote none fails the
// test.
func runExperiment(t *testing.T, env []string, file string, extra ...string) e2eRun {
	t.Helper()
	result := filepath.Join(t.TempDir(), "result.json")
	r := chaosload(t, env, append([]string{"run", file, "--quiet", "--json", result}, extra...)...)
	out, err := readResult(result)
	if err != nil {
		t.Fatalf("exit %d, no result: %v\n%s\n%s", r.code, err, r.stdout, r.stderr)
	}
	r.out = out
	return r
}

// expect fails the test unless the run exited with code and its verdict is
// v: exactly, whatever the machine.
func (r e2eRun) expect(t *testing.T, code int, v runner.Verdict) {
	t.Helper()
	if r.code == code && r.out != nil && r.out.Verdict == v {
		return
	}
	var verdict runner.Verdict
	var why string
	if r.out != nil {
		verdict = r.out.Verdict
		for _, c := range r.out.Inconclusive {
			why += "inconclusive: " + c + "\n"
		}
		for _, e := range r.out.Errors {
			why += "error: " + e + "\n"
		}
	}
	t.Fatalf("exit %d, verdict %q; want %d/%s\n%s%s\n%s", r.code, verdict, code, v, why, r.stdout, tail(r.stderr, 40))
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// liveRun is the binary running in the background (a game day, a run to be
// interrupted): its stdout is read line by line.
type liveRun struct {
	cmd    *exec.Cmd
	lines  chan string   // stdout, line by line; closed at its end
	ended  chan struct{} // closed when stdout ends: the process is gone
	mu     sync.Mutex
	output strings.Builder // stdout so far, for failure messages
	stderr bytes.Buffer
	waited chan struct{} // closed once Wait returned
	err    error         // Wait's
}

// startChaosload starts the binary with args and env; the test's cleanup
// kills it if it is still running.
func startChaosload(t *testing.T, env []string, args ...string) *liveRun {
	t.Helper()
	skipShort(t)
	l := &liveRun{cmd: exec.Command(chaosloadBinary(t), args...), lines: make(chan string, 4096),
		ended: make(chan struct{}), waited: make(chan struct{})}
	l.cmd.Env = append(os.Environ(), env...)
	l.cmd.Stderr = &l.stderr
	stdout, err := l.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := l.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go l.read(stdout)
	go func() {
		<-l.ended
		l.err = l.cmd.Wait()
		close(l.waited)
	}()
	t.Cleanup(func() {
		select {
		case <-l.waited:
		default:
			_ = l.cmd.Process.Kill()
			<-l.waited
		}
	})
	return l
}

func (l *liveRun) read(stdout io.Reader) {
	defer close(l.ended)
	defer close(l.lines)
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		l.mu.Lock()
		l.output.WriteString(sc.Text() + "\n")
		l.mu.Unlock()
		select {
		case l.lines <- sc.Text():
		default: // nobody waits for lines any more; output keeps them
		}
	}
}

// stdout is what the run printed so far.
func (l *liveRun) stdout() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.output.String()
}

// waitLine waits for a line of stdout containing want and returns it; the
// run ending first, or no such line within the hang limit, fails the test.
func (l *liveRun) waitLine(t *testing.T, want string) string {
	t.Helper()
	deadline := time.After(hangLimit)
	for {
		select {
		case line, ok := <-l.lines:
			if !ok {
				<-l.waited
				t.Fatalf("the run ended (exit %d) before a line with %q\n%s\n%s", exitCodeOf(l.err), want, l.stdout(), tail(l.stderr.String(), 40))
			}
			if strings.Contains(line, want) {
				return line
			}
		case <-deadline:
			t.Fatalf("no line with %q within %v\n%s", want, hangLimit, l.stdout())
		}
	}
}

// interrupt sends SIGINT, as Ctrl-C does, and returns the exit code once
// the process has ended.
func (l *liveRun) interrupt(t *testing.T) int {
	t.Helper()
	if err := l.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-l.waited:
	case <-time.After(hangLimit):
		t.Fatalf("still running %v after SIGINT\n%s", hangLimit, l.stdout())
	}
	return exitCodeOf(l.err)
}
