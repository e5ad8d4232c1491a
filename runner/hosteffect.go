package runner

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/chaosload/chaosload/faults"
)

// HostSummary says in a few words what a process or host fault did, as the
// kernel showed it, e.g. "80 of 80 CFS periods throttled, 15.6s throttled
// (cgroup v1 chaosload_123_1)"; "" for nil.
func HostSummary(e *faults.HostEffect) string {
	if e == nil {
		return ""
	}
	switch e.Kind {
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

// hostChanged reports whether a process or host fault did something the
// kernel saw: a signal delivered, a process stopped, a CFS period
// throttled, the memory limit hit, I/O done under the limit, CPU burnt or
// memory held by a hog, bytes written by a fill.
func hostChanged(e *faults.HostEffect) bool {
	switch e.Kind {
	case faults.Kill:
		return len(e.PIDs) > 0
	case faults.Pause:
		return e.Stopped > 0
	case faults.CPULimit:
		return e.Throttled > 0
	case faults.MemoryLimit:
		return e.LimitHits > 0 || e.OOMKills > 0
	case faults.IOLimit:
		return e.ReadBytes+e.WriteBytes > 0
	case faults.CPUHog:
		return e.CPUTimeS > 0
	case faults.MemoryHog:
		return e.Resident > 0 || e.HogKilled
	case faults.DiskFill:
		return e.Written > 0
	}
	return false
}

// hostNoEffectReason says why a process or host fault did nothing.
func hostNoEffectReason(e *faults.HostEffect) string {
	switch e.Kind {
	case faults.Pause:
		return "no process was seen stopped (state T)"
	case faults.CPULimit:
		return fmt.Sprintf("no CFS period was throttled: the %d processes used less than their quota", len(e.PIDs))
	case faults.MemoryLimit:
		return fmt.Sprintf("the processes never reached the limit (peak %d bytes; a limit bounds what they allocate after the apply)", e.MemoryPeak)
	case faults.IOLimit:
		return "the processes did no I/O on device " + e.Device + " while limited"
	case faults.DiskFill:
		return "the filesystem had no free space to fill"
	}
	return "the kernel showed nothing done"
}
