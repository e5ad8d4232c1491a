package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/chaosload/chaosload/supervise"
)

// hogEnv, in the environment of a process StartHog starts, makes
// RunHogIfChild turn it into the hog: "cpu:N" or "memory:BYTES".
const hogEnv = "CHAOSLOAD_HOST_HOG"

// hogReady is the line a hog prints once it is in effect.
var hogReady = regexp.MustCompile(`hog ready`)

// RunHogIfChild makes this process a hog, and never returns, if StartHog
// started it; otherwise it returns at once. Like demo.RunServiceIfChild,
// every program that starts hogs (chaosload, and test binaries whose tests
// do) calls it first thing in main or TestMain.
func RunHogIfChild() {
	spec := os.Getenv(hogEnv)
	if spec == "" {
		return
	}
	kind, arg, _ := strings.Cut(spec, ":")
	n, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || n <= 0 {
		fmt.Fprintf(os.Stderr, "hog: bad %s=%q\n", hogEnv, spec)
		os.Exit(2)
	}
	switch kind {
	case "cpu":
		runtime.GOMAXPROCS(int(n))
		for range n {
			go spin()
		}
		fmt.Println("hog ready: cpu", n)
	case "memory":
		// the OOM killer takes the hog before anything else
		_ = os.WriteFile("/proc/self/oom_score_adj", []byte("1000"), 0)
		held := make([]byte, n)
		for i := 0; i < len(held); i += 4096 {
			held[i] = 1 // touch every page: resident, not only reserved
		}
		fmt.Println("hog ready: memory", n)
		defer runtime.KeepAlive(held)
	default:
		fmt.Fprintf(os.Stderr, "hog: unknown kind %q\n", kind)
		os.Exit(2)
	}
	select {} // until killed
}

//go:noinline
func spin() {
	x := 0
	for {
		x++
	}
}

// Hog is a child process keeping CPU cores busy or memory held.
type Hog struct {
	proc *supervise.Process
	dir  string
	kind string
}

// StartHog starts a hog, "cpu" busy on n cores or "memory" holding n bytes
// (allocated and every page touched), as a child process of this
// executable (see RunHogIfChild) that dies with chaosload, and returns once
// it is in effect. ctx bounds the start.
func StartHog(ctx context.Context, kind string, n int64) (*Hog, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("%s-hog: find the executable: %w", kind, err)
	}
	dir, err := supervise.MkdirTemp("", "chaosload-hog-")
	if err != nil {
		return nil, fmt.Errorf("%s-hog: %w", kind, err)
	}
	p, err := supervise.Start(supervise.Command{
		Name: kind + "-hog", Path: exe,
		// a program without the hook exits at once on these arguments
		// (chaosload: unknown command; a test binary: no test to run)
		Args: []string{"-test.run=^$", "host-hog"},
		Env:  append(os.Environ(), hogEnv+"="+kind+":"+strconv.FormatInt(n, 10)),
		Log:  filepath.Join(dir, "hog.log"), StopSignal: syscall.SIGKILL, StopGrace: time.Second,
	})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("%s-hog: %w", kind, err)
	}
	h := &Hog{proc: p, dir: dir, kind: kind}
	if _, err := p.WaitLog(ctx, hogReady); err != nil {
		if errors.Is(err, supervise.ErrExited) {
			err = fmt.Errorf("%w (does its main call host.RunHogIfChild?)", err)
		}
		_, serr := h.Stop()
		return nil, errors.Join(fmt.Errorf("%s-hog: %w", kind, err), serr)
	}
	return h, nil
}

// PID is the hog's process id.
func (h *Hog) PID() int { return h.proc.PID() }

// HogUse is what a hog took while it ran.
type HogUse struct {
	// CPUTime is the CPU time it burnt; Resident the most memory it held
	// (VmHWM).
	CPUTime  time.Duration
	Resident int64
	// Killed says the hog had died before Stop (the OOM killer took it).
	Killed bool
}

// Stop kills the hog and says what it took. It is idempotent in effect.
func (h *Hog) Stop() (HogUse, error) {
	var u HogUse
	select {
	case <-h.proc.Done():
		u.Killed = true
	default:
		u.CPUTime = time.Duration(cpuTicks(h.PID())) * time.Second / clockTicks
		u.Resident = peakRSS(h.PID())
	}
	err := h.proc.Stop()
	_ = os.RemoveAll(h.dir)
	if u.Killed {
		err = nil // the kernel ended it; nothing is left
	}
	return u, err
}

// peakRSS is VmHWM of pid in bytes; 0 when it cannot be read.
func peakRSS(pid int) int64 {
	data, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}
