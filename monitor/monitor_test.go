package monitor

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/shirou/gopsutil/v4/process"
	"go.uber.org/goleak"
)

// TestMain doubles as the helper process: MONITOR_HELPER=burn spins one
// core, =hold allocates and touches 100 MB and opens 50 files; either runs
// until its parent kills it (the test's cleanup, or the kernel when the
// test process dies: Pdeathsig), for a minute at the most.
func TestMain(m *testing.M) {
	switch os.Getenv("MONITOR_HELPER") {
	case "burn":
		burn(time.Minute)
		os.Exit(0)
	case "hold":
		hold(time.Minute)
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

func burn(d time.Duration) {
	end := time.Now().Add(d)
	x := 0
	for time.Now().Before(end) {
		x++
	}
	_ = x
}

var sink []byte

func hold(d time.Duration) {
	sink = make([]byte, 100<<20)
	for i := range sink {
		if i%4096 == 0 {
			sink[i] = 1
		}
	}
	dir, _ := os.MkdirTemp("", "monitor-hold")
	defer os.RemoveAll(dir)
	for i := range 50 {
		f, err := os.Create(filepath.Join(dir, strconv.Itoa(i)))
		if err == nil {
			defer f.Close()
		}
	}
	time.Sleep(d)
}

// helper starts the test binary as a helper process and stops it (by the
// PID started) when the test ends.
func helper(t *testing.T, mode string) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "MONITOR_HELPER="+mode)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd.Process.Pid
}

// TestCPU: the CPU of a process spinning one core is the CPU time it used
// between two samples over the time between them. The second sample is
// taken once the process has used at least 200 ms of CPU since the first
// (its own counters say when), however long a busy machine takes to give
// it that: so the share read is above zero, at least 200 ms over the time
// the two samples spanned, and at most every core.
func TestCPU(t *testing.T) {
	t.Parallel()
	pid := helper(t, "burn")
	p, err := process.NewProcess(int32(pid))
	if err != nil {
		t.Fatal(err)
	}
	m := New([]Root{{PID: pid}}, Config{})
	begin := time.Now()
	m.Sample(context.Background())
	first := cpuSeconds(t, p)
	for deadline := time.Now().Add(30 * time.Second); cpuSeconds(t, p) < first+0.2; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the spinning process used less than 200 ms of CPU in 30 s")
		}
	}
	s := m.Sample(context.Background())
	spanned := time.Since(begin).Seconds()
	t.Logf("%+v over at most %.2fs", s, spanned)
	if most := 100 * float64(runtime.NumCPU()) * 1.1; s.Procs != 1 || s.CPU*spanned/100 < 0.2 || s.CPU > most {
		t.Fatalf("spinning process: %+v over at most %.2fs; want at least 200 ms of CPU in it, at most %.0f%% of one core",
			s, spanned, most)
	}
}

// cpuSeconds is the CPU time (user and system) p has used.
func cpuSeconds(t *testing.T, p *process.Process) float64 {
	t.Helper()
	ts, err := p.Times()
	if err != nil {
		t.Fatal(err)
	}
	return ts.User + ts.System
}

// TestMemoryAndFDs: 100 MB touched and 50 files open show in RSS and fds;
// the process is found as a child of this one.
func TestMemoryAndFDs(t *testing.T) {
	t.Parallel()
	pid := helper(t, "hold")
	m := New([]Root{{PID: pid}}, Config{})
	var s Sample
	for range 300 { // bounded: 30 s, which only a hang takes
		if s = m.Sample(context.Background()); s.RSS > 90<<20 && s.FDs >= 50 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if s.RSS < 90<<20 || s.Private < 90<<20 || s.Private > s.RSS || s.FDs < 50 || s.Threads < 1 {
		t.Fatalf("holding process: %+v, want RSS and private memory (its heap) ≥ 90 MiB, ≥ 50 fds", s)
	}
	parent := New(WithChildren(os.Getpid()), Config{}).Sample(context.Background())
	alone := New([]Root{{PID: os.Getpid()}}, Config{}).Sample(context.Background())
	if parent.Procs < 2 || parent.RSS < s.RSS {
		t.Fatalf("this process with its children: %+v, want the helper (%d) counted", parent, pid)
	}
	if alone.Procs != 1 {
		t.Fatalf("this process without its children: %+v, want 1 process", alone)
	}
}

// TestRoots: each root's share is its own (the helper's 100 MB are in its
// share, not this process's), a process reached from two roots counts for
// the first, and the shares add up to the sum.
func TestRoots(t *testing.T) {
	t.Parallel()
	pid := helper(t, "hold")
	m := New([]Root{{PID: pid}, {PID: os.Getpid()}, {PID: pid}}, Config{})
	var s Sample
	for range 300 { // bounded: 30 s, which only a hang takes
		if s = m.Sample(context.Background()); s.Roots[0].RSS > 90<<20 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(s.Roots) != 3 || s.Roots[0].Procs != 1 || s.Roots[0].RSS < 90<<20 || s.Roots[1].Procs != 1 {
		t.Fatalf("roots %+v, want the helper's 100 MB in the first", s.Roots)
	}
	if s.Roots[2] != (Usage{}) {
		t.Errorf("the helper counted twice: %+v", s.Roots[2])
	}
	var sum Usage
	for _, r := range s.Roots {
		sum.sum(r)
	}
	if sum != s.Usage {
		t.Errorf("roots add up to %+v, the sample says %+v", sum, s.Usage)
	}
}

// TestRootFollowsCurrent: a root whose Current changes (a supervised
// service restarted under a new PID) is read under its new PID at the next
// sample: the helper's 100 MB appear in the root's share once Current
// names it, and not before.
func TestRootFollowsCurrent(t *testing.T) {
	t.Parallel()
	var now atomic.Int64
	now.Store(int64(os.Getpid()))
	m := New([]Root{{PID: os.Getpid(), Current: func() int { return int(now.Load()) }}}, Config{})
	if s := m.Sample(context.Background()); s.Roots[0].Procs != 1 || s.Roots[0].RSS >= 90<<20 {
		t.Fatalf("before the restart: %+v, want this process alone", s.Roots[0])
	}
	now.Store(int64(helper(t, "hold")))
	var s Sample
	for range 300 { // bounded: 30 s, which only a hang takes
		if s = m.Sample(context.Background()); s.Roots[0].RSS > 90<<20 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if s.Roots[0].Procs != 1 || s.Roots[0].RSS < 90<<20 {
		t.Fatalf("after the restart: %+v, want the new PID's 100 MB", s.Roots[0])
	}
}

// TestRun: Run samples at its period until its context ends and stamps
// samples with the given clock; a vanished process is skipped.
func TestRun(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := New([]Root{{PID: os.Getpid()}, {PID: 1 << 30}}, Config{Every: 100 * time.Millisecond})
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	for deadline := time.Now().Add(30 * time.Second); len(m.Samples()) < 3; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d samples after 30 s at a 100 ms period", len(m.Samples()))
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ss := m.Samples()
	if len(ss) < 3 || ss[0].Procs < 1 || ss[len(ss)-1].At <= ss[0].At {
		t.Fatalf("samples %+v", ss)
	}
}

// TestFind finds this test binary by its name.
func TestFind(t *testing.T) {
	t.Parallel()
	pids, err := Find(context.Background(), filepath.Base(os.Args[0]))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range pids {
		found = found || p == os.Getpid()
	}
	if !found {
		t.Fatalf("pid %d not among %v", os.Getpid(), pids)
	}
}

// BenchmarkSample samples every process of the machine (the tree under
// PID 1): the cost of one reading, which the process tree read once per
// sample keeps linear in the number of processes.
func BenchmarkSample(b *testing.B) {
	m := New(WithChildren(1), Config{})
	ctx := context.Background()
	b.ReportAllocs()
	var procs int
	for b.Loop() {
		procs = m.Sample(ctx).Procs
	}
	b.ReportMetric(float64(procs), "procs")
}
