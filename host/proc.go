package host

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// procStat is what host reads of /proc/PID/stat.
type procStat struct {
	comm  string
	state string // R, S, D, T (stopped), t, Z, X, ...
	ppid  int
	// utime and stime are CPU time in clock ticks.
	utime, stime int64
}

func readProcStat(pid int) (procStat, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	s := string(data)
	open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || close < open {
		return procStat{}, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	// after the command: state(0) ppid(1) ... utime(11) stime(12)
	f := strings.Fields(s[close+1:])
	if len(f) < 13 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	st := procStat{comm: s[open+1 : close], state: f[0]}
	st.ppid, _ = strconv.Atoi(f[1])
	st.utime, _ = strconv.ParseInt(f[11], 10, 64)
	st.stime, _ = strconv.ParseInt(f[12], 10, 64)
	return st, nil
}

// State is the state letter of a process as /proc/PID/stat shows it: "T"
// while stopped, "S" sleeping, "R" running, "Z" a zombie.
func State(pid int) (string, error) {
	st, err := readProcStat(pid)
	return st.state, err
}

// Alive reports whether pid is a process that has not exited (a zombie
// has).
func Alive(pid int) bool {
	st, err := readProcStat(pid)
	return err == nil && st.state != "Z" && st.state != "X"
}

// Tree returns pid and every descendant of it alive now, pid first.
func Tree(pid int) []int {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := readProcStat(p); err == nil {
			children[st.ppid] = append(children[st.ppid], p)
		}
	}
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// FindByName returns the processes whose command name (/proc/PID/comm,
// at most 15 bytes) or executable's base name is name, this process
// excluded.
func FindByName(name string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil || p == os.Getpid() {
			continue
		}
		st, err := readProcStat(p)
		if err != nil || st.state == "Z" {
			continue
		}
		exe, _ := os.Readlink("/proc/" + e.Name() + "/exe")
		if st.comm == name || (exe != "" && filepath.Base(exe) == name) {
			pids = append(pids, p)
		}
	}
	return pids
}

// cpuTicks is the CPU time (user + system) pid has used, in clock ticks
// (USER_HZ, 100 per second on Linux).
func cpuTicks(pid int) int64 {
	st, err := readProcStat(pid)
	if err != nil {
		return 0
	}
	return st.utime + st.stime
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's CPU times; 100 on
// every Linux architecture chaosload builds for.
const clockTicks = 100
