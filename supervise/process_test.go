package supervise

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hang is a deadline that only catches a hang.
const hang = 60 * time.Second

// TestReadyByLogHTTPAndTCP: a server announcing its address is found by
// WaitLog, is ready by HTTP and TCP, and Stop ends it with SIGTERM.
func TestReadyByLogHTTPAndTCP(t *testing.T) {
	t.Parallel()
	p := startHelper(t, "serve", Command{})
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	m, err := p.WaitLog(ctx, regexp.MustCompile(`serving on (\S+)`))
	if err != nil {
		t.Fatalf("WaitLog: %v", err)
	}
	addr := m[1]
	if err := p.WaitReady(ctx, TCP(addr)); err != nil {
		t.Fatalf("TCP ready: %v", err)
	}
	if err := p.WaitReady(ctx, HTTP("http://"+addr+"/ok")); err != nil {
		t.Fatalf("HTTP ready: %v", err)
	}
	// HTTP readiness wants a 2xx: a 404 is not ready
	if err := HTTP("http://" + addr + "/missing")(ctx); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("HTTP check of a 404: %v, want not ready naming the 404", err)
	}
	if err := p.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	<-p.Done()
	var ee *exec.ExitError
	if err := p.ExitErr(); !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM {
		t.Errorf("ExitErr = %v, want terminated by SIGTERM", err)
	}
	if err := TCP(addr)(ctx); err == nil {
		t.Errorf("%s still accepts connections after Stop", addr)
	}
}

// TestStopKillsTheGroup: a process ignoring StopSignal is killed, with its
// process group, after StopGrace; Stop says so, and says it again.
func TestStopKillsTheGroup(t *testing.T) {
	t.Parallel()
	p := startHelper(t, "stubborn", Command{StopGrace: 200 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	if _, err := p.WaitLog(ctx, regexp.MustCompile(`ignoring SIGTERM`)); err != nil {
		t.Fatalf("WaitLog: %v", err)
	}
	err := p.Stop()
	if err == nil || !strings.Contains(err.Error(), "was killed") {
		t.Fatalf("Stop = %v, want killed after ignoring SIGTERM", err)
	}
	if again := p.Stop(); again == nil || again.Error() != err.Error() {
		t.Errorf("second Stop = %v, want the first result", again)
	}
	select {
	case <-p.Done():
	default:
		t.Fatal("Done not closed after Stop")
	}
	if err := syscall.Kill(-p.PID(), 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("process group %d still exists: %v", p.PID(), err)
	}
}

// TestExitedBeforeReady: a process that dies during startup is reported by
// WaitReady and WaitLog as exited, with its exit status and its last words.
func TestExitedBeforeReady(t *testing.T) {
	t.Parallel()
	p := startHelper(t, "fail", Command{})
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	for name, wait := range map[string]func() error{
		"WaitReady": func() error { return p.WaitReady(ctx, TCP("127.0.0.1:1")) },
		"WaitLog": func() error {
			_, err := p.WaitLog(ctx, regexp.MustCompile(`never printed`))
			return err
		},
	} {
		err := wait()
		if !errors.Is(err, ErrExited) {
			t.Fatalf("%s = %v, want ErrExited", name, err)
		}
		for _, want := range []string{"fail helper (pid " + strconv.Itoa(p.PID()) + ")", "exit status 3", "boom: no configuration file"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s error lacks %q: %v", name, want, err)
			}
		}
	}
	if err := p.Stop(); err != nil {
		t.Errorf("Stop of an exited process: %v", err)
	}
}

// TestNotReadyInTime: when ctx ends first, the error says what the last
// check saw and shows the log.
func TestNotReadyInTime(t *testing.T) {
	t.Parallel()
	p := startHelper(t, "stubborn", Command{StopGrace: 100 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	if _, err := p.WaitLog(ctx, regexp.MustCompile(`ignoring SIGTERM`)); err != nil {
		t.Fatalf("WaitLog: %v", err)
	}
	short, stop := context.WithTimeout(ctx, 100*time.Millisecond)
	defer stop()
	_, err := p.WaitLog(short, regexp.MustCompile(`never printed`))
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrExited) {
		t.Fatalf("WaitLog = %v, want the deadline", err)
	}
	for _, want := range []string{`no line matching "never printed"`, "ignoring SIGTERM"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

// TestParentDeathSignal: when the process that started a child dies by
// SIGKILL (so it stops nothing), the child dies too. As root the child runs
// as nobody, as PostgreSQL does: the signal survives the credential change.
func TestParentDeathSignal(t *testing.T) {
	t.Parallel()
	parent := startHelper(t, "parent", Command{})
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	m, err := parent.WaitLog(ctx, regexp.MustCompile(`child (\d+)`))
	if err != nil {
		t.Fatalf("WaitLog: %v", err)
	}
	child, _ := strconv.Atoi(m[1])
	if gone(child) {
		t.Fatalf("child %d not running before its parent died", child)
	}
	if cred, _ := nobody(); cred != nil {
		if uid := uidOf(t, child); uid != int(cred.Uid) {
			t.Fatalf("child runs as uid %d, want nobody (%d)", uid, cred.Uid)
		}
		t.Logf("child %d runs as nobody (uid %d)", child, cred.Uid)
	}
	if err := syscall.Kill(parent.PID(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-parent.Done()
	waitGone(t, child)
}

// TestStartRefuses: a Command without its required fields, or whose program
// does not exist, is an error.
func TestStartRefuses(t *testing.T) {
	t.Parallel()
	log := filepath.Join(t.TempDir(), "x.log")
	for _, c := range []Command{
		{Path: "/bin/true", Log: log},                 // no name
		{Name: "x", Log: log},                         // no path
		{Name: "x", Path: "/bin/true"},                // no log
		{Name: "x", Path: "/nonexistent/x", Log: log}, // no such program
	} {
		if p, err := Start(c); err == nil {
			_ = p.Stop()
			t.Errorf("Start(%+v) succeeded", c)
		}
	}
}

// TestMkdirTempSweepsTheDead: a directory whose owner is gone (here: this
// PID with another start time, as after PID reuse) is removed by the next
// MkdirTemp of its pattern; one whose owner lives, or without an owner
// record, stays.
func TestMkdirTempSweepsTheDead(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	mine, err := MkdirTemp(parent, "sweep-")
	if err != nil {
		t.Fatal(err)
	}
	dead, foreign := filepath.Join(parent, "sweep-dead"), filepath.Join(parent, "sweep-foreign")
	for _, d := range []string{dead, foreign} {
		if err := os.MkdirAll(filepath.Join(d, "data"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	start, err := startTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	record := fmt.Sprintf("%d %d\n", os.Getpid(), start+1)
	if err := os.WriteFile(filepath.Join(dead, ownerFile), []byte(record), 0o644); err != nil {
		t.Fatal(err)
	}
	next, err := MkdirTemp(parent, "sweep-")
	if err != nil {
		t.Fatal(err)
	}
	for d, want := range map[string]bool{mine: true, next: true, foreign: true, dead: false} {
		if _, err := os.Stat(d); (err == nil) != want {
			t.Errorf("%s exists: %v, want %v", d, err == nil, want)
		}
	}
}
