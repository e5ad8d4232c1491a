package runner

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/chaosload/chaosload/faults"
)

// HostSummary says in a few words what a process or host fault did, as the
// kernel showed it, e.g. "80 of 80 CFS periods throttled, 15.6s throttled
// (cgroup v1 chaosload_123_1)"; "" for the other kinds.
func HostSummary(kind string, e *faults.HostEffect) string {
	if e == nil {
		return ""
	}
	switch faults.Kind(kind) {
	case faults.Kill:
		s := fmt.Sprintf("%s to pid %s", e.Signal, pidList(e.PIDs))
		if e.NewPID != 0 {
			s += fmt.Sprintf("; restarted as pid %d, ready %.2fs after the exit", e.NewPID, e.ReadyAfterS)
		}
		return s
	case faults.Pause:
		return fmt.Sprintf("%d of %d processes in state T once applied, %d still at the revert; resumed", e.Stopped, len(e.PIDs), e.StoppedAtRevert)
	case faults.CPULimit:
		return fmt.Sprintf("%d of %d CFS periods throttled, %.1fs throttled (cgroup v%d %s, %d processes)",
			e.Throttled, e.Periods, e.ThrottledTimeS, e.CgroupVersion, filepath.Base(e.Cgroup), len(e.PIDs))
	case faults.MemoryLimit:
		return fmt.Sprintf("peak %d bytes, limit hit %d times, %d pages reclaimed, %d OOM kills (cgroup v%d)",
			e.MemoryPeak, e.LimitHits, e.Reclaimed, e.OOMKills, e.CgroupVersion)
	case faults.IOLimit:
		return fmt.Sprintf("device %s: %d bytes read, %d written while limited (cgroup v%d)", e.Device, e.ReadBytes, e.WriteBytes, e.CgroupVersion)
	case faults.CPUHog:
		return fmt.Sprintf("hog pid %s burnt %.1fs of CPU", pidList(e.PIDs), e.CPUTimeS)
	case faults.MemoryHog:
		if e.HogKilled {
			return fmt.Sprintf("hog pid %s killed by the kernel before the revert", pidList(e.PIDs))
		}
		return fmt.Sprintf("hog pid %s held %d bytes resident", pidList(e.PIDs), e.Resident)
	case faults.DiskFill:
		return fmt.Sprintf("%d bytes written to %s; free %s → %s → %s bytes", e.Written, e.File, optInt(e.FreeBefore), optInt(e.FreeDuring), optInt(e.FreeAfter))
	}
	return ""
}

func pidList(pids []int) string {
	s := make([]string, len(pids))
	for i, p := range pids {
		s[i] = fmt.Sprint(p)
	}
	return strings.Join(s, ",")
}

func optInt(p *int64) string {
	if p == nil {
		return "?"
	}
	return fmt.Sprint(*p)
}
