package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.uber.org/goleak"
)

// helperEnv makes TestMain act as one of the helpers below.
const helperEnv = "HOST_TEST_HELPER"

// hang is a deadline that only catches a hang.
const hang = 60 * time.Second

func TestMain(m *testing.M) {
	RunHogIfChild()
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(helper(mode))
	}
	goleak.VerifyTestMain(m)
}

func helper(mode string) int {
	switch mode {
	case "crasher": // pauses, confines and fills what its environment names, says so, waits to be killed
		return crasher()
	case "grow": // on SIGUSR1, allocates and touches 256 MiB
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGUSR1)
		fmt.Println("waiting")
		<-ch
		b := make([]byte, 256<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		fmt.Println("grown", len(b))
		time.Sleep(hang)
	}
	return 0
}

// crasher is a chaosload that applies a pause, a CPU limit and a disk fill
// and then dies without reverting them (the test SIGKILLs it).
func crasher() int {
	fail := func(err error) int { fmt.Fprintln(os.Stderr, err); return 1 }
	j, err := Guarded(zerolog.Nop())
	if err != nil {
		return fail(err)
	}
	pausePID, _ := strconv.Atoi(os.Getenv("PAUSE_PID"))
	limitPID, _ := strconv.Atoi(os.Getenv("LIMIT_PID"))
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	if _, err := Pause(ctx, j, pausePID); err != nil {
		return fail(err)
	}
	c, err := Detect()
	if err != nil {
		return fail(err)
	}
	g, err := c.Confine(j, CPU, []int{limitPID}, c.CPUSettings(0.1))
	if err != nil {
		return fail(err)
	}
	f, err := FillDisk(ctx, j, FillSpec{Dir: os.Getenv("FILL_DIR"), Size: 1 << 20})
	if err != nil {
		return fail(err)
	}
	fmt.Printf("applied cgroup=%s file=%s journal=%s\n", g.Dir(), f.File(), j.Dir())
	time.Sleep(hang)
	return 0
}

// needRoot skips a test that needs root, saying so.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: pausing other processes, cgroups and mounts are root's")
	}
}

// startChild starts a command killed at cleanup.
func startChild(t *testing.T, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(name, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

// eventually polls cond until it holds; the deadline only catches a hang.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(hang)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v", what, hang)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// fileGone reports whether path does not exist.
func fileGone(path string) bool {
	_, err := os.Stat(path)
	return os.IsNotExist(err)
}

// tmpfs mounts a tmpfs of size bytes at a new directory, unmounted at cleanup.
func tmpfs(t *testing.T, size int64) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "fs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+strconv.FormatInt(size, 10)); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, 0) })
	return dir
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }
