package faults_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/host"
)

// The proofs of the process and host kinds: each bound as the runner binds
// it, applied and reverted, and proven by what the kernel shows.

// hostRoot skips a proof that needs root.
func hostRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: signalling other users' processes, cgroups")
	}
}

// sleeper starts a process killed at cleanup.
func sleeper(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	if len(args) == 0 {
		args = []string{"sleep", "300"}
	}
	cmd := exec.Command(args[0], args[1:]...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGCONT); _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

// bindHost binds f with the test's logger; no proxy, no stack.
func bindHost(t *testing.T, f faults.Fault) faults.Action {
	t.Helper()
	if ps := f.Validate(); len(ps) > 0 {
		t.Fatalf("invalid fault: %v", ps)
	}
	a, err := faults.Bind(&f, faults.TargetInfo{}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// applyRevert applies a, runs during, reverts, and returns the effect.
func applyRevert(t *testing.T, a faults.Action, during func()) *faults.HostEffect {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if c, ok := a.(faults.Checker); ok {
		if err := c.Check(ctx); err != nil {
			t.Fatalf("Check: %v", err)
		}
	}
	rev, err := a.Apply(ctx)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	during()
	if err := rev(ctx); err != nil {
		t.Fatalf("Revert: %v", err)
	}
	return a.(faults.HostReporter).HostEffect()
}

func procState(pid int) string { st, _ := host.State(pid); return st }

// TestProofPauseAndKill: pause leaves the process in state T until the
// revert, which resumes it; kill delivers its signal.
func TestProofPauseAndKill(t *testing.T) {
	hostRoot(t)
	p := sleeper(t)
	pid := p.Process.Pid
	e := applyRevert(t, bindHost(t, faults.Fault{Name: "p", Kind: faults.Pause, PID: pid}), func() {
		if st := procState(pid); st != "T" {
			t.Errorf("state %q while paused, want T", st)
		}
	})
	if e.Stopped != 1 || e.StoppedAtRevert != 1 || procState(pid) == "T" {
		t.Fatalf("pause effect %+v, state now %q; want stopped at apply and at revert, running after", e, procState(pid))
	}
	e = applyRevert(t, bindHost(t, faults.Fault{Name: "k", Kind: faults.Kill, PID: pid, Signal: "SIGTERM"}), func() {})
	err := p.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM || e.Signal != "SIGTERM" || e.PIDs[0] != pid {
		t.Fatalf("after kill: %v, effect %+v; want ended by SIGTERM", err, e)
	}
}

// TestProofCPULimit: a busy loop limited to 5% of a core is throttled, and
// its cgroup is gone after the revert.
func TestProofCPULimit(t *testing.T) {
	hostRoot(t)
	if c, err := host.Detect(); err != nil || c.Check(host.CPU) != nil {
		t.Skip("no cgroup cpu controller here")
	}
	busy := sleeper(t, "/bin/sh", "-c", "while :; do :; done")
	a := bindHost(t, faults.Fault{Name: "c", Kind: faults.CPULimit, PID: busy.Process.Pid, CPUs: 0.05})
	e := applyRevert(t, a, func() {
		deadline := time.Now().Add(time.Minute)
		for cpuThrottled(t, busy.Process.Pid) < 3 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	})
	if e.Throttled < 3 || e.ThrottledTimeS <= 0 || e.Cgroup == "" {
		t.Fatalf("effect %+v: want throttled periods and time", e)
	}
	if _, err := os.Stat(e.Cgroup); !os.IsNotExist(err) {
		t.Fatalf("cgroup %s still there after the revert", e.Cgroup)
	}
	t.Logf("cpu-limit 0.05: %d of %d periods throttled, %.3fs throttled", e.Throttled, e.Periods, e.ThrottledTimeS)
}

// cpuThrottled reads nr_throttled of pid's own cpu cgroup (v1).
func cpuThrottled(t *testing.T, pid int) int {
	data, _ := os.ReadFile("/proc/" + itoa(pid) + "/cgroup")
	for _, line := range strings.Split(string(data), "\n") {
		if parts := strings.SplitN(line, ":", 3); len(parts) == 3 && strings.Contains(","+parts[1]+",", ",cpu,") {
			stat, _ := os.ReadFile(filepath.Join("/sys/fs/cgroup/cpu", parts[2], "cpu.stat"))
			for _, l := range strings.Split(string(stat), "\n") {
				if f := strings.Fields(l); len(f) == 2 && f[0] == "nr_throttled" {
					return atoi(f[1])
				}
			}
		}
	}
	return 0
}

// TestProofDiskFillRefusesTheRootFilesystem: without bytes, a disk-fill on
// the root filesystem is refused before anything is written; with bytes it
// writes exactly that, in the directory named only, and the revert removes
// it.
func TestProofDiskFillRefusesTheRootFilesystem(t *testing.T) {
	dir := t.TempDir()
	if root, _ := host.OnRootFS(dir); !root {
		t.Skipf("%s is not on the root filesystem here", dir)
	}
	full := faults.Percent(1)
	a := bindHost(t, faults.Fault{Name: "d", Kind: faults.DiskFill, Path: dir, Fill: &full})
	err := a.(faults.Checker).Check(context.Background())
	if err == nil || !strings.Contains(err.Error(), "root filesystem") {
		t.Fatalf("Check = %v, want a refusal naming the root filesystem", err)
	}
	if _, err := a.Apply(context.Background()); err == nil {
		t.Fatal("Apply filled the root filesystem")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a refused fill wrote %v", entries)
	}
	a = bindHost(t, faults.Fault{Name: "d", Kind: faults.DiskFill, Path: dir, Fill: &full, Bytes: 1 << 20})
	e := applyRevert(t, a, func() {
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 || filepath.Dir(filepath.Join(dir, entries[0].Name())) != dir {
			t.Errorf("while filled the directory holds %v, want the filler only", entries)
		}
	})
	if e.Written != 1<<20 {
		t.Fatalf("effect %+v: want 1 MiB written", e)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("after the revert the directory holds %v", entries)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }
