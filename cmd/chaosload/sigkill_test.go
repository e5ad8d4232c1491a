package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chaosload/chaosload/supervise"
)

// TestSIGKILLLeavesNoStackProcess: chaosload killed by SIGKILL (it can stop
// nothing) while running an experiment on the demo stack leaves no process
// of the stack behind: the demo service (a process of its own), PostgreSQL
// with its backends (as nobody when root: the parent-death signal survives
// the change of user) and Redis all exit by their parent-death signal. The
// directories they leave are removed by the next start's sweep.
func TestSIGKILLLeavesNoStackProcess(t *testing.T) {
	skipShort(t)
	cmd := exec.Command(chaosloadBinary(t), "run", "../../experiments/db-exhaustion.yaml", "--quick")
	tmp := reachableTempDir(t) // what the killed run cannot remove is the test's to remove
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	roles := stackStarted(t, stdout)
	for _, role := range []string{"service", "postgres", "redis"} {
		if roles[role] == 0 {
			t.Fatalf("no %s pid in the stack line: %v", role, roles)
		}
	}
	if roles["service"] == cmd.Process.Pid {
		t.Fatalf("the demo service runs in the chaosload process (%d)", cmd.Process.Pid)
	}
	if os.Geteuid() == 0 {
		nobody, err := user.Lookup("nobody")
		if err != nil {
			t.Fatal(err)
		}
		if uid := processUID(t, roles["postgres"]); strconv.Itoa(uid) != nobody.Uid {
			t.Fatalf("postgres runs as uid %d, want nobody (%s)", uid, nobody.Uid)
		}
	}
	all := descendants(cmd.Process.Pid)
	t.Logf("stack %v; chaosload %d and its %d descendants", roles, cmd.Process.Pid, len(all))
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	for _, p := range all {
		waitExited(t, p)
	}
	for role, pid := range roles {
		if n := groupMembers(pid); n > 0 {
			t.Errorf("%s's process group %d still has %d live processes", role, pid, n)
		}
	}
	// the files stay (nothing ran to remove them); the next start sweeps
	// the directories of a dead owner
	left, _ := filepath.Glob(filepath.Join(tmp, "chaosload-*"))
	if n := supervise.SweepStale(tmp, "chaosload-"); n != 3 || n != len(left) {
		t.Errorf("swept %d directories of the killed run, want its 3 (postgres, redis, service): %v", n, left)
	}
}

// reachableTempDir is a temporary directory, removed at cleanup, that
// every user can traverse (PostgreSQL runs as nobody when root).
func reachableTempDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// stackStarted reads the run's progress until its "stack started" line and
// returns the PIDs it names by role; the rest of stdout is drained.
func stackStarted(t *testing.T, stdout io.Reader) map[string]int {
	t.Helper()
	found := make(chan map[string]int, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		pidRE := regexp.MustCompile(`(\w+) pid (\d+)`)
		for sc.Scan() {
			if !strings.Contains(sc.Text(), "stack started:") {
				continue
			}
			roles := map[string]int{}
			for _, m := range pidRE.FindAllStringSubmatch(sc.Text(), -1) {
				roles[m[1]], _ = strconv.Atoi(m[2])
			}
			found <- roles
			break
		}
		close(found)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case roles, ok := <-found:
		if !ok {
			t.Fatal("the run ended without a stack started line")
		}
		return roles
	case <-time.After(2 * time.Minute): // only catches a hang
		t.Fatal("no stack started line within 2 minutes")
		return nil
	}
}

// proc is a process as /proc showed it: its start time tells it apart
// from a later process given the same PID.
type proc struct{ pid, start int }

// descendants lists every process below pid, from /proc.
func descendants(pid int) []proc {
	var out []proc
	queue := []int{pid}
	for len(queue) > 0 {
		kids := childPIDs(queue[0])
		queue = append(queue[1:], kids...)
		for _, k := range kids {
			if st, ok := procStat(k); ok {
				out = append(out, proc{k, st.start})
			}
		}
	}
	return out
}

// stat is what the tests read of /proc/PID/stat.
type stat struct {
	state       string
	pgid, start int
}

// procStat reads a process's /proc/PID/stat; ok is false when there is no
// such process.
func procStat(pid int) (stat, bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return stat{}, false
	}
	s := string(data)
	// after the command name: state(0) ppid(1) pgrp(2) ... starttime(19)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 20 {
		return stat{}, false
	}
	pgid, _ := strconv.Atoi(f[2])
	start, _ := strconv.Atoi(f[19])
	return stat{state: f[0], pgid: pgid, start: start}, true
}

// dead reports whether a /proc state is a process that has exited (a
// zombie no one reaped yet counts).
func dead(state string) bool { return state == "Z" || state == "X" }

// waitExited waits until p has exited (gone, a zombie, or its PID taken by
// a newer process); the deadline only catches a process that never dies.
func waitExited(t *testing.T, p proc) {
	t.Helper()
	pid := p.pid
	deadline := time.Now().Add(time.Minute)
	for {
		st, ok := procStat(pid)
		if !ok || dead(st.state) || st.start != p.start {
			return
		}
		if time.Now().After(deadline) {
			cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			t.Fatalf("pid %d (%s) still running a minute after chaosload was killed", pid, strings.ReplaceAll(string(cmdline), "\x00", " "))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// groupMembers counts the live (not zombie) processes in process group pgid.
func groupMembers(pgid int) int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	n := 0
	for _, f := range stats {
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
		if st, ok := procStat(pid); ok && st.pgid == pgid && !dead(st.state) {
			n++
		}
	}
	return n
}

// processUID reads the real uid of a process from /proc.
func processUID(t *testing.T, pid int) int {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("read status of pid %d: %v", pid, err)
	}
	for line := range strings.Lines(string(status)) {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "Uid:" {
			uid, _ := strconv.Atoi(f[1])
			return uid
		}
	}
	t.Fatalf("no Uid line for pid %d", pid)
	return 0
}
