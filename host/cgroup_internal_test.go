package host

import (
	"reflect"
	"strings"
	"testing"
)

// TestDetect: the layouts chaosload meets, read from mountinfo.
func TestDetect(t *testing.T) {
	t.Parallel()
	const v1 = `30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
37 30 0:34 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`
	const v2 = `30 22 0:27 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate
`
	ctrls := func(string) ([]byte, error) { return []byte("cpuset cpu io memory pids\n"), nil }
	none := func(string) ([]byte, error) { return []byte("\n"), nil }
	for _, c := range []struct {
		name      string
		mountinfo string
		ctrls     func(string) ([]byte, error)
		version   Version
		mounts    map[string]string
	}{
		// v1, cpu mounted with cpuacct; the unified mount of a hybrid layout is ignored
		{"v1", v1, none, 1, map[string]string{CPU: "/sys/fs/cgroup/cpu,cpuacct", Memory: "/sys/fs/cgroup/memory", IO: "/sys/fs/cgroup/blkio"}},
		// v2: every controller in the one hierarchy
		{"v2", v2, ctrls, 2, map[string]string{"cpuset": "/sys/fs/cgroup", CPU: "/sys/fs/cgroup", IO: "/sys/fs/cgroup", Memory: "/sys/fs/cgroup", "pids": "/sys/fs/cgroup"}},
		// no controller anywhere
		{"none", v2, none, 0, nil},
	} {
		got, err := detect(strings.NewReader(c.mountinfo), c.ctrls)
		if c.version == 0 {
			if err == nil {
				t.Errorf("%s: detected %+v, want an error", c.name, got)
			}
			continue
		}
		if err != nil || got.Version != c.version || !reflect.DeepEqual(got.mounts, c.mounts) {
			t.Errorf("%s: %+v, %v; want v%d %v", c.name, got, err, c.version, c.mounts)
		}
	}
}

// TestSettings: what each limit writes, in each version.
func TestSettings(t *testing.T) {
	t.Parallel()
	v1, v2 := &Cgroups{Version: 1}, &Cgroups{Version: 2}
	for _, c := range []struct {
		name string
		got  []Setting
		want []Setting
	}{
		// 20% of a core: 20 ms of every 100 ms period
		{"cpu v1", v1.CPUSettings(0.2), []Setting{{"cpu.cfs_period_us", "100000"}, {"cpu.cfs_quota_us", "20000"}}},
		{"cpu v2", v2.CPUSettings(0.2), []Setting{{"cpu.max", "20000 100000"}}},
		// below the kernel's smallest quota (1 ms) at 100 ms: a longer period
		{"cpu min", v1.CPUSettings(0.001), []Setting{{"cpu.cfs_period_us", "1000000"}, {"cpu.cfs_quota_us", "1000"}}},
		{"memory v1", v1.MemorySettings(64 << 20), []Setting{{"memory.limit_in_bytes", "67108864"}}},
		{"memory v2", v2.MemorySettings(64 << 20), []Setting{{"memory.max", "67108864"}, {"memory.swap.max", "0"}}},
		{"io v1", v1.IOSettings("8:0", 1<<20, 0), []Setting{{"blkio.throttle.read_bps_device", "8:0 1048576"}}},
		{"io v2", v2.IOSettings("8:0", 1<<20, 2<<20), []Setting{{"io.max", "8:0 rbps=1048576 wbps=2097152"}}},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
		}
	}
}
