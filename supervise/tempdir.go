package supervise

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ownerFile, in a directory MkdirTemp made, names the process that made it:
// "PID STARTTIME" (the start time, in clock ticks since boot, tells the
// process apart from a later one given the same PID).
const ownerFile = ".chaosload-owner"

// MkdirTemp makes a temporary directory like os.MkdirTemp and records this
// process as its owner. First it removes the directories of the same
// pattern in dir whose owner has died without removing them (a chaosload
// killed by SIGKILL: its children die with it, its files stay). A directory
// without an owner record, or whose owner lives, is never touched.
func MkdirTemp(dir, pattern string) (string, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	SweepStale(dir, pattern)
	d, err := os.MkdirTemp(dir, pattern)
	if err != nil {
		return "", err
	}
	self, err := startTime(os.Getpid())
	if err == nil {
		err = os.WriteFile(filepath.Join(d, ownerFile), fmt.Appendf(nil, "%d %d\n", os.Getpid(), self), 0o644)
	}
	if err != nil {
		_ = os.RemoveAll(d)
		return "", fmt.Errorf("record the owner of %s: %w", d, err)
	}
	return d, nil
}

// SweepStale removes the directories dir/pattern* that MkdirTemp made for a
// process that is gone, and returns how many it removed.
func SweepStale(dir, pattern string) int {
	matches, _ := filepath.Glob(filepath.Join(dir, pattern+"*"))
	removed := 0
	for _, d := range matches {
		data, err := os.ReadFile(filepath.Join(d, ownerFile))
		if err != nil {
			continue // not ours, or being made right now
		}
		var pid, start int
		if _, err := fmt.Sscanf(string(data), "%d %d", &pid, &start); err != nil || alive(pid, start) {
			continue
		}
		if os.RemoveAll(d) == nil {
			removed++
		}
	}
	return removed
}

// alive reports whether pid is still the process that started at start,
// and has not exited.
func alive(pid, start int) bool {
	st, err := readStat(pid)
	return err == nil && st.start == start && st.state != "Z" && st.state != "X"
}

func startTime(pid int) (int, error) {
	st, err := readStat(pid)
	return st.start, err
}

// procStat is what supervise reads of /proc/PID/stat.
type procStat struct {
	state string
	start int // clock ticks since boot
}

func readStat(pid int) (procStat, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	s := string(data)
	// after the parenthesised command: state(0) ppid(1) ... starttime(19)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 20 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	start, err := strconv.Atoi(f[19])
	return procStat{state: f[0], start: start}, err
}

// OwnerGone reports whether dir was made by MkdirTemp for a process that
// is no longer running; false when dir has no owner record or its owner
// lives.
func OwnerGone(dir string) bool {
	data, err := os.ReadFile(filepath.Join(dir, ownerFile))
	if err != nil {
		return false
	}
	var pid, start int
	if _, err := fmt.Sscanf(string(data), "%d %d", &pid, &start); err != nil {
		return false
	}
	return !alive(pid, start)
}
