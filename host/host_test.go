package host

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// journal is this test process's guarded journal.
func journal(t *testing.T) *Journal {
	t.Helper()
	j, err := Guarded(zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// cgroups detects the machine's cgroups, skipping without them.
func cgroups(t *testing.T, ctrl string) *Cgroups {
	t.Helper()
	needRoot(t)
	c, err := Detect()
	if err != nil {
		t.Skip(err)
	}
	if err := c.Check(ctrl); err != nil {
		t.Skip(err)
	}
	return c
}

// TestPauseStopsTheTreeAndResumes: a shell and its sleeping child both
// show state T while paused and leave it on Resume, and the journal entry
// goes with the pause.
func TestPauseStopsTheTreeAndResumes(t *testing.T) {
	needRoot(t)
	j := journal(t)
	sh := startChild(t, "/bin/sh", "-c", "sleep 300 & wait")
	var tree []int
	eventually(t, "the shell's child", func() bool { tree = Tree(sh.Process.Pid); return len(tree) == 2 })
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	p, err := Pause(ctx, j, sh.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	for _, pid := range tree {
		if st, _ := State(pid); st != "T" {
			t.Errorf("pid %d state %q while paused, want T", pid, st)
		}
	}
	if p.Stopped() != 2 || len(j.Entries()) != 1 {
		t.Fatalf("stopped %d of %v, journal %v; want both stopped and one entry", p.Stopped(), tree, j.Entries())
	}
	if err := p.Resume(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range tree {
		eventually(t, "pid "+strconv.Itoa(pid)+" resumed", func() bool { st, _ := State(pid); return st == "S" })
	}
	if e := j.Entries(); len(e) != 0 || p.Resume() != nil {
		t.Fatalf("journal after Resume: %v", e)
	}
}

// TestGuardUndoesAfterSIGKILL: a chaosload SIGKILLed while a pause, a CPU
// limit and a disk fill are in effect leaves none of them behind: its
// guard resumes the process (state T → S), moves the other back to its
// own cgroup and removes the chaosload cgroup, and deletes the filler file.
func TestGuardUndoesAfterSIGKILL(t *testing.T) {
	needRoot(t)
	cgroups(t, CPU)
	paused := startChild(t, "sleep", "300")
	limited := startChild(t, "sleep", "300")
	own, err := cgroupOf(limited.Process.Pid, 1, "cpu")
	if err != nil {
		t.Fatal(err)
	}
	exe, _ := os.Executable()
	fillDir := t.TempDir()
	crash := exec.Command(exe)
	crash.Env = append(os.Environ(), helperEnv+"=crasher", "PAUSE_PID="+strconv.Itoa(paused.Process.Pid),
		"LIMIT_PID="+strconv.Itoa(limited.Process.Pid), "FILL_DIR="+fillDir)
	out, _ := crash.StdoutPipe()
	crash.Stderr = os.Stderr
	if err := crash.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = crash.Process.Kill(); _ = crash.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	m := regexp.MustCompile(`applied cgroup=(\S+) file=(\S+) journal=(\S+)`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("crasher said %q (%v)", line, err)
	}
	group, file, jdir := m[1], m[2], m[3]
	if st, _ := State(paused.Process.Pid); st != "T" {
		t.Fatalf("paused process in state %q, want T", st)
	}
	if in, _ := cgroupOf(limited.Process.Pid, 1, "cpu"); "/sys/fs/cgroup/cpu"+in != group && filepath.Base(in) != filepath.Base(group) {
		t.Fatalf("limited process in cgroup %s, want %s", in, group)
	}
	if fileGone(file) {
		t.Fatalf("no filler file %s", file)
	}
	if err := crash.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = crash.Wait()
	eventually(t, "the paused process resumed", func() bool { st, _ := State(paused.Process.Pid); return st == "S" })
	eventually(t, "the cgroup removed", func() bool { return fileGone(group) })
	eventually(t, "the filler file removed", func() bool { return fileGone(file) })
	eventually(t, "the journal removed", func() bool { return fileGone(jdir) })
	if in, _ := cgroupOf(limited.Process.Pid, 1, "cpu"); in != own {
		t.Errorf("limited process in cgroup %s after the crash, want its own %s", in, own)
	}
}

// TestSweepRunsTheEntriesOfTheDead: a journal whose owner is gone and
// whose guard died too is undone and removed by the next Sweep; a live
// owner's journal is left alone.
func TestSweepRunsTheEntriesOfTheDead(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "filler")
	if err := os.WriteFile(victim, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	dead := filepath.Join(dir, journalPattern+"dead")
	live := filepath.Join(dir, journalPattern+"live")
	for _, d := range []string{dead, live} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "1.undo"), []byte("rm -f "+quote(victim)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// the owner record MkdirTemp writes: this PID, with another start time (PID reuse)
	if err := os.WriteFile(filepath.Join(dead, ".chaosload-owner"), []byte(strconv.Itoa(os.Getpid())+" 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if n := Sweep(dir); n != 1 {
		t.Fatalf("Sweep = %d, want 1", n)
	}
	if !fileGone(victim) || !fileGone(dead) || fileGone(live) {
		t.Fatalf("after Sweep: victim gone %v, dead journal gone %v, live journal gone %v; want true, true, false",
			fileGone(victim), fileGone(dead), fileGone(live))
	}
}

// TestCPULimit: a busy loop limited to 10% of a core is throttled, as
// cpu.stat counts, in a group that holds it; Release puts it back in its
// own cgroup and removes the group.
func TestCPULimit(t *testing.T) {
	c := cgroups(t, CPU)
	busy := startChild(t, "/bin/sh", "-c", "while :; do :; done")
	pid := busy.Process.Pid
	own, _ := cgroupOf(pid, c.Version, "cpu")
	g, err := c.Confine(journal(t), CPU, []int{pid}, c.CPUSettings(0.1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Release(context.Background()) })
	var st Stats
	eventually(t, "throttled 5 periods", func() bool { st, _ = g.Stats(); return st.Throttled >= 5 })
	if st.ThrottledTime <= 0 {
		t.Fatalf("stats %+v: throttled periods without throttled time", st)
	}
	t.Logf("cpu-limit 0.1: %d of %d periods throttled, %v throttled", st.Throttled, st.Periods, st.ThrottledTime)
	if err := g.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	if in, _ := cgroupOf(pid, c.Version, "cpu"); in != own || !fileGone(g.Dir()) {
		t.Fatalf("after Release: in %s (own %s), group %s gone %v", in, own, g.Dir(), fileGone(g.Dir()))
	}
}

// TestMemoryLimitOOMKills: a process that grows by 256 MiB inside a
// 32 MiB limit (no swap here) is killed by the OOM killer, and the group's
// counters say so: limit hits, the OOM kill, a peak at the limit.
func TestMemoryLimitOOMKills(t *testing.T) {
	c := cgroups(t, Memory)
	exe, _ := os.Executable()
	grow := exec.Command(exe)
	grow.Env = append(os.Environ(), helperEnv+"=grow")
	out, _ := grow.StdoutPipe()
	if err := grow.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = grow.Process.Kill(); _ = grow.Wait() })
	r := bufio.NewReader(out)
	if l, err := r.ReadString('\n'); err != nil || l != "waiting\n" {
		t.Fatalf("helper said %q, %v", l, err)
	}
	const limit = 32 << 20
	g, err := c.Confine(journal(t), Memory, []int{grow.Process.Pid}, c.MemorySettings(limit))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Release(context.Background()) })
	_ = grow.Process.Signal(syscall.SIGUSR1)
	err = grow.Wait()
	ws, _ := grow.ProcessState.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("helper ended %v, want killed (SIGKILL) by the OOM killer", err)
	}
	st, err := g.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.OOMKills < 1 || st.LimitHits < 1 || st.MemoryPeak > limit+1<<20 || st.MemoryPeak < limit/2 {
		t.Fatalf("stats %+v: want an OOM kill, limit hits and a peak near %d", st, limit)
	}
	t.Logf("memory-limit 32MiB: %d OOM kill(s), %d limit hits, peak %d bytes", st.OOMKills, st.LimitHits, st.MemoryPeak)
	if err := g.Release(context.Background()); err != nil || !fileGone(g.Dir()) {
		t.Fatalf("Release: %v; group gone %v", err, fileGone(g.Dir()))
	}
}

// TestIOLimit: a direct read of 3 MiB limited to 1 MiB/s takes at least
// 2 s (the first second's budget may go at once), and the group counts
// the bytes read.
func TestIOLimit(t *testing.T) {
	c := cgroups(t, IO)
	dir := t.TempDir()
	dev, err := Device(dir)
	if err != nil {
		t.Skip(err)
	}
	data := filepath.Join(dir, "data")
	if out, err := exec.Command("dd", "if=/dev/urandom", "of="+data, "bs=1M", "count=3", "conv=fsync", "status=none").CombinedOutput(); err != nil {
		t.Fatalf("dd: %v: %s", err, out)
	}
	// the reader waits for a line, then reads (direct I/O: no page cache)
	rd := exec.Command("/bin/sh", "-c", `read x; exec dd if="$1" of=/dev/null bs=64k iflag=direct status=none`, "sh", data)
	in, _ := rd.StdinPipe()
	if err := rd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rd.Process.Kill(); _ = rd.Wait() })
	g, err := c.Confine(journal(t), IO, []int{rd.Process.Pid}, c.IOSettings(dev, 1<<20, 0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Release(context.Background()) })
	start := time.Now()
	_, _ = in.Write([]byte("go\n"))
	if err := rd.Wait(); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	st, _ := g.Stats()
	if took < 2*time.Second || st.ReadBytes < 3<<20 {
		t.Fatalf("read 3 MiB in %v, %d bytes counted; want at least 2s and 3 MiB", took, st.ReadBytes)
	}
	t.Logf("io-limit 1MiB/s on %s: 3 MiB read in %v, %d bytes counted", dev, took, st.ReadBytes)
}

// TestHogs: a CPU hog burns CPU time, a memory hog holds what it was
// asked (resident, VmHWM), and both are gone after Stop.
func TestHogs(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	cpu, err := StartHog(ctx, "cpu", 1)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the CPU hog burnt 0.3 s", func() bool { return cpuTicks(cpu.PID()) >= 30 })
	cu, err := cpu.Stop()
	if err != nil || cu.CPUTime < 300*time.Millisecond {
		t.Fatalf("cpu hog: %+v, %v", cu, err)
	}
	mem, err := StartHog(ctx, "memory", 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	mu, err := mem.Stop()
	if err != nil || mu.Resident < 64<<20 {
		t.Fatalf("memory hog: %+v, %v; want at least 64 MiB resident", mu, err)
	}
	t.Logf("cpu-hog: %v CPU; memory-hog: %d bytes resident", cu.CPUTime, mu.Resident)
	for _, pid := range []int{cpu.PID(), mem.PID()} {
		if Alive(pid) {
			t.Errorf("hog %d alive after Stop", pid)
		}
	}
}

// TestDiskFill: filling a 16 MiB tmpfs leaves less than a page free (a
// write fails with ENOSPC), writes only the filler file, and Release gives
// the space back.
func TestDiskFill(t *testing.T) {
	needRoot(t)
	dir := tmpfs(t, 16<<20)
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	f, err := FillDisk(ctx, journal(t), FillSpec{Dir: dir, Share: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Release() })
	if f.During.Free >= 4096 || f.Written < 15<<20 {
		t.Fatalf("fill: %+v; want under a page free and about 16 MiB written", f)
	}
	err = os.WriteFile(filepath.Join(dir, "more"), make([]byte, 8192), 0o600)
	if !errorsIs(err, syscall.ENOSPC) {
		t.Fatalf("a write to the full filesystem: %v, want ENOSPC", err)
	}
	_ = os.Remove(filepath.Join(dir, "more"))
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || filepath.Join(dir, entries[0].Name()) != f.File() {
		t.Fatalf("the directory holds %v, want only the filler", entries)
	}
	if err := f.Release(); err != nil {
		t.Fatal(err)
	}
	after, _ := SpaceOf(dir)
	if after.Free != f.Before.Free || !fileGone(f.File()) {
		t.Fatalf("after Release: %+v free, want %+v", after, f.Before)
	}
	t.Logf("disk-fill 100%%: %d bytes written; free %d → %d → %d", f.Written, f.Before.Free, f.During.Free, after.Free)
}
