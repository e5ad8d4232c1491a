package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/host"
	"github.com/chaosload/chaosload/runner"
)

// hostFaultsYAML pauses one process, limits another's CPU and fills 1 MiB of
// a directory, all from 6 s for 50 s, under a light HTTP load.
const hostFaultsYAML = `version: 1
name: host-faults
targets:
  api: {upstream: "%s", protocol: http}
scenarios:
  s:
    executor: constant-vus
    vus: 1
    duration: 60s
    steps:
      - http: {url: "http://${targets.api}/"}
        think: 100ms
faults:
  - {name: frozen, kind: pause, pid: %d, startTime: 6s, duration: 50s}
  - {name: starved, kind: cpu-limit, cpus: 0.1, pid: %d, startTime: 6s, duration: 50s}
  - {name: filled, kind: disk-fill, path: "%s", bytes: 1MB, startTime: 6s, duration: 50s}
`

// hostFaultsRun is the processes and directory an experiment of
// hostFaultsYAML acts on.
type hostFaultsRun struct {
	file          string
	paused, busy  *exec.Cmd
	fillDir       string
	ownBusyCgroup string
	cgroupsBefore []string
}

// newHostFaultsRun starts the processes and writes the experiment.
func newHostFaultsRun(t *testing.T) *hostFaultsRun {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: pausing a process and cgroups")
	}
	if c, err := host.Detect(); err != nil || c.Check(host.CPU) != nil {
		t.Skip("needs the cgroup cpu controller")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(srv.Close)
	h := &hostFaultsRun{fillDir: t.TempDir()}
	h.paused = startProc(t, "sleep", "300")
	h.busy = startProc(t, "/bin/sh", "-c", "while :; do :; done")
	h.ownBusyCgroup = cpuCgroup(t, h.busy.Process.Pid)
	h.cgroupsBefore = chaosloadCgroups()
	h.file = filepath.Join(t.TempDir(), "host.yaml")
	yaml := fmt.Sprintf(hostFaultsYAML, strings.TrimPrefix(srv.URL, "http://"), h.paused.Process.Pid, h.busy.Process.Pid, h.fillDir)
	if err := os.WriteFile(h.file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return h
}

// startProc starts a process killed (and resumed first) at cleanup.
func startProc(t *testing.T, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(name, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGCONT); _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

// waitInEffect waits until the kernel shows all three faults in effect:
// the paused process in state T, the limited one in a chaosload cgroup, the
// filler file in the directory. (The run says each was applied as its
// apply returns; this reads the kernel.) The deadline only catches a hang.
func (h *hostFaultsRun) waitInEffect(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(hangLimit)
	for {
		st, _ := host.State(h.paused.Process.Pid)
		cg := cpuCgroup(t, h.busy.Process.Pid)
		entries, _ := os.ReadDir(h.fillDir)
		if st == "T" && strings.Contains(cg, "chaosload_") && len(entries) == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not in effect: paused process in state %q, limited one in cgroup %q, fill directory %v", st, cg, entries)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// throttled waits until the kernel has throttled the limited process at
// least once (cgroup v1's cpu.stat). The deadline only catches a hang.
func (h *hostFaultsRun) throttled(t *testing.T) {
	t.Helper()
	stat := filepath.Join("/sys/fs/cgroup/cpu", cpuCgroup(t, h.busy.Process.Pid), "cpu.stat")
	deadline := time.Now().Add(30 * time.Second)
	for {
		data, _ := os.ReadFile(stat)
		seen := 0 // nr_throttled, and throttled_time, which grows when a throttled period ends
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Fields(line); len(f) == 2 && (f[0] == "nr_throttled" || f[0] == "throttled_time") && f[1] != "0" {
				seen++
			}
		}
		if seen == 2 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no throttled period", stat)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// undone waits until nothing of the three faults is left: the process
// resumed, the other back in its own cgroup and no chaosload cgroup more
// than before, the filler gone. The deadline only catches a hang.
func (h *hostFaultsRun) undone(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, _ := host.State(h.paused.Process.Pid)
		entries, _ := os.ReadDir(h.fillDir)
		cg := cpuCgroup(t, h.busy.Process.Pid)
		left := len(chaosloadCgroups()) - len(h.cgroupsBefore)
		if st != "T" && len(entries) == 0 && cg == h.ownBusyCgroup && left <= 0 {
			t.Logf("undone: paused process in state %s, limited one in %s, fill directory empty", st, cg)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("left behind: paused process state %q, limited process in %q (own %q), %d chaosload cgroups more, fill directory %v",
				st, cg, h.ownBusyCgroup, left, entries)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cpuCgroup is pid's cgroup in the cpu hierarchy (v1) or the unified one.
func cpuCgroup(t *testing.T, pid int) string {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) == 3 && (strings.Contains(","+parts[1]+",", ",cpu,") || parts[0] == "0" && !strings.Contains(string(data), ",cpu")) {
			return parts[2]
		}
	}
	return ""
}

// chaosloadCgroups lists the chaosload_* cgroups in the cpu hierarchy.
func chaosloadCgroups() []string {
	var out []string
	for _, root := range []string{"/sys/fs/cgroup/cpu", "/sys/fs/cgroup"} {
		_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() && strings.HasPrefix(d.Name(), "chaosload_") {
				out = append(out, p)
			}
			return nil
		})
	}
	return out
}

// TestSIGKILLDuringHostFaults: chaosload killed by SIGKILL (it reverts
// nothing) while a pause, a CPU limit and a disk fill are in effect leaves
// none of them behind: its guard resumes the paused process, moves the
// limited one back and removes the cgroup, and deletes the filler file.
func TestSIGKILLDuringHostFaults(t *testing.T) {
	skipShort(t)
	h := newHostFaultsRun(t)
	l := startChaosload(t, nil, "run", h.file)
	for range 3 {
		l.waitLine(t, "fault applied: ")
	}
	h.waitInEffect(t)
	if err := l.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-l.waited
	h.undone(t)
}

// TestSIGINTDuringHostFaults: an interrupted run reverts the three faults
// itself (exit 130) and says what each did: the process stopped, the
// periods throttled, the bytes written (1MB: 10^6 bytes).
func TestSIGINTDuringHostFaults(t *testing.T) {
	skipShort(t)
	h := newHostFaultsRun(t)
	code, _, out := interruptDuringFault(t, h.file, []string{"frozen", "starved", "filled"}, func() {
		h.waitInEffect(t)
		h.throttled(t)
	})
	if code != exitInterrupted || out.Verdict != runner.Interrupted {
		t.Fatalf("exit %d, verdict %s; want 130, interrupted", code, out.Verdict)
	}
	h.undone(t)
	for _, f := range out.Faults {
		var e *faults.HostEffect
		if f.Effect != nil {
			e = f.Effect.Host
		}
		switch {
		case e == nil || f.RevertedS == nil || !f.Effect.Changed:
			t.Errorf("fault %s: not reverted, no effect, or no change: %+v", f.Name, f)
		case f.Kind == "pause" && e.Stopped != 1:
			t.Errorf("pause effect %+v: want the process seen stopped", e)
		case f.Kind == "cpu-limit" && (e.Throttled == 0 || e.ThrottledTimeS <= 0):
			t.Errorf("cpu-limit effect %+v: want throttled periods", e)
		case f.Kind == "disk-fill" && e.Written != 1_000_000:
			t.Errorf("disk-fill effect %+v: want 1MB written", e)
		}
	}
}

// TestHostFaultsWithoutRootExit4: run as an unprivileged user (nobody), a
// CPU limit and a pause of root's process stop the run at preflight with
// exit 4, each named with what it lacks; nothing is applied.
func TestHostFaultsWithoutRootExit4(t *testing.T) {
	skipShort(t)
	if os.Geteuid() != 0 {
		t.Skip("needs root to run the binary as nobody")
	}
	cred, err := nobodyCredential()
	if err != nil {
		t.Skip(err)
	}
	victim := startProc(t, "sleep", "300")
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(srv.Close)
	dir := reachableTempDir(t)
	bin := filepath.Join(dir, "chaosload")
	data, err := os.ReadFile(chaosloadBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "noroot.yaml")
	yaml := fmt.Sprintf(`version: 1
name: no-root
targets:
  api: {upstream: "%s", protocol: http}
scenarios:
  s: {executor: constant-vus, vus: 1, duration: 20s, steps: [{http: {url: "http://${targets.api}/"}}]}
faults:
  - {name: starve, kind: cpu-limit, cpus: 0.1, pid: %d, startTime: 6s, duration: 2s}
  - {name: freeze, kind: pause, pid: %d, startTime: 6s, duration: 2s}
`, strings.TrimPrefix(srv.URL, "http://"), victim.Process.Pid, victim.Process.Pid)
	if os.WriteFile(bin, data, 0o755) != nil || os.WriteFile(file, []byte(yaml), 0o644) != nil {
		t.Fatal("write the binary and the file")
	}
	cmd := exec.Command(bin, "run", file, "--quiet")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TMPDIR="+dir, "HOME="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	out, _ := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != exitInfra {
		t.Fatalf("exit %d, want 4\n%s", code, out)
	}
	for _, want := range []string{`fault "starve" (cpu-limit): a cgroup cpu limit needs root`, `fault "freeze" (pause): may not signal pid`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if st, _ := host.State(victim.Process.Pid); st == "T" {
		t.Errorf("the process was paused")
	}
}

// nobodyCredential is the credential of user nobody.
func nobodyCredential() (*syscall.Credential, error) {
	u, err := user.Lookup("nobody")
	if err != nil {
		return nil, err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}
