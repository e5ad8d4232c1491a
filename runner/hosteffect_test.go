package runner_test

import (
	"testing"

	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/runner"
)

func TestHostSummary(t *testing.T) {
	t.Parallel()
	zero, full := int64(0), int64(38252544)
	for _, c := range []struct {
		e    *faults.HostEffect
		want string
	}{
		// a kill the supervisor answered
		{&faults.HostEffect{Kind: faults.Kill, Signal: "SIGKILL", PIDs: []int{7809}, NewPID: 7945, ReadyAfterS: 0.17},
			"SIGKILL to pid 7809; restarted as pid 7945, ready 0.17s after the exit"},
		// the kernel's throttling counts
		{&faults.HostEffect{Kind: faults.CPULimit, Throttled: 80, Periods: 80, ThrottledTimeS: 15.6, CgroupVersion: 1,
			Cgroup: "/sys/fs/cgroup/cpu/chaosload_1_1", PIDs: []int{1, 2}},
			"80 of 80 CFS periods throttled, 15.6s throttled (cgroup v1 chaosload_1_1, 2 processes)"},
		// free space before, during, after
		{&faults.HostEffect{Kind: faults.DiskFill, Written: full, File: "/d/.f", FreeBefore: &full, FreeDuring: &zero, FreeAfter: &full},
			"38252544 bytes written to /d/.f; free 38252544 → 0 → 38252544 bytes"},
		// a proxy fault has none
		{nil, ""},
	} {
		if got := runner.HostSummary(c.e); got != c.want {
			t.Errorf("%q, want %q", got, c.want)
		}
	}
}
