package host

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuPeriod is the CFS period of a CPU limit: the quota is a share of it.
const cpuPeriod = 100 * time.Millisecond

// minQuota is the smallest CFS quota the kernel takes (1 ms), maxPeriod
// its longest period (1 s).
const (
	minQuota  = time.Millisecond
	maxPeriod = time.Second
)

// CPUSettings limits a group to share of one core (0.2: 20 ms of CPU time
// in every 100 ms period, whatever the number of threads). A share under
// 1% keeps the kernel's smallest quota (1 ms) and lengthens the period
// instead, up to 1 s: 0.001 is 1 ms of CPU in every second.
func (c *Cgroups) CPUSettings(share float64) []Setting {
	quota, period := cpuQuota(share)
	if c.Version == 2 {
		return []Setting{{"cpu.max", fmt.Sprintf("%d %d", quota.Microseconds(), period.Microseconds())}}
	}
	return []Setting{
		{"cpu.cfs_period_us", strconv.FormatInt(period.Microseconds(), 10)},
		{"cpu.cfs_quota_us", strconv.FormatInt(quota.Microseconds(), 10)},
	}
}

// cpuQuota returns the CFS quota and period that give share of one core.
func cpuQuota(share float64) (quota, period time.Duration) {
	quota, period = time.Duration(share*float64(cpuPeriod)), cpuPeriod
	if quota < minQuota && share > 0 {
		quota, period = minQuota, min(time.Duration(float64(minQuota)/share), maxPeriod)
	}
	return max(quota, minQuota), period
}

// MemorySettings limits a group's memory to bytes (no swap beyond it where
// the kernel accounts swap).
func (c *Cgroups) MemorySettings(bytes int64) []Setting {
	b := strconv.FormatInt(bytes, 10)
	if c.Version == 2 {
		return []Setting{{"memory.max", b}, {"memory.swap.max", "0"}}
	}
	return []Setting{{"memory.limit_in_bytes", b}}
}

// IOSettings limits a group's reads and writes on device (MAJ:MIN) to
// read and write bytes per second (0: unlimited).
func (c *Cgroups) IOSettings(device string, read, write int64) []Setting {
	if c.Version == 2 {
		v := device
		if read > 0 {
			v += " rbps=" + strconv.FormatInt(read, 10)
		}
		if write > 0 {
			v += " wbps=" + strconv.FormatInt(write, 10)
		}
		return []Setting{{"io.max", v}}
	}
	var s []Setting
	if read > 0 {
		s = append(s, Setting{"blkio.throttle.read_bps_device", device + " " + strconv.FormatInt(read, 10)})
	}
	if write > 0 {
		s = append(s, Setting{"blkio.throttle.write_bps_device", device + " " + strconv.FormatInt(write, 10)})
	}
	return s
}

// Device returns the block device (MAJ:MIN of the whole disk, not a
// partition) that holds path, for an io-limit.
func Device(path string) (string, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return "", fmt.Errorf("io-limit: %w", err)
	}
	dev := uint64(st.Dev)
	major := (dev>>8)&0xfff | (dev>>32)&^uint64(0xfff)
	minor := dev&0xff | (dev>>12)&^uint64(0xff)
	id := fmt.Sprintf("%d:%d", major, minor)
	sys := "/sys/dev/block/" + id
	if _, err := os.Stat(sys); err != nil {
		return "", fmt.Errorf("io-limit: %s is on device %s, which is no block device (a tmpfs, overlay or network filesystem): "+
			"name a path on a disk", path, id)
	}
	if _, err := os.Stat(filepath.Join(sys, "partition")); err == nil {
		// a partition: the limit applies to its disk
		if whole, err := os.ReadFile(filepath.Join(sys, "..", "dev")); err == nil {
			return strings.TrimSpace(string(whole)), nil
		}
	}
	return id, nil
}

// Stats is what a group's controller counted while processes were in it.
type Stats struct {
	// CPU: the CFS periods that ran, those throttled, and the time the
	// group's threads waited for the next period.
	Periods, Throttled int64
	ThrottledTime      time.Duration
	// Memory: the most the group used, how often it hit its limit (the
	// kernel then reclaimed), the pages reclaimed (v2 only), and the
	// processes the OOM killer killed in it.
	MemoryPeak int64
	LimitHits  int64
	Reclaimed  int64
	OOMKills   int64
	// I/O: bytes read and written on the limited device.
	ReadBytes, WriteBytes int64
}

// Stats reads the group's counters; call it before Release.
func (g *Group) Stats() (Stats, error) {
	var s Stats
	var err error
	switch g.ctrl {
	case CPU:
		err = g.cpuStats(&s)
	case Memory:
		err = g.memoryStats(&s)
	case IO:
		err = g.ioStats(&s)
	}
	return s, err
}

func (g *Group) cpuStats(s *Stats) error {
	kv, err := readKV(filepath.Join(g.dir, "cpu.stat"))
	s.Periods, s.Throttled = kv["nr_periods"], kv["nr_throttled"]
	if g.c.Version == 2 {
		s.ThrottledTime = time.Duration(kv["throttled_usec"]) * time.Microsecond
	} else {
		s.ThrottledTime = time.Duration(kv["throttled_time"])
	}
	return err
}

func (g *Group) memoryStats(s *Stats) error {
	if g.c.Version == 2 {
		ev, err1 := readKV(filepath.Join(g.dir, "memory.events"))
		st, err2 := readKV(filepath.Join(g.dir, "memory.stat"))
		s.LimitHits, s.OOMKills, s.Reclaimed = ev["max"], ev["oom_kill"], st["pgsteal"]
		s.MemoryPeak = readInt(filepath.Join(g.dir, "memory.peak"))
		return errors.Join(err1, err2)
	}
	oom, err := readKV(filepath.Join(g.dir, "memory.oom_control"))
	s.OOMKills = oom["oom_kill"]
	s.MemoryPeak = readInt(filepath.Join(g.dir, "memory.max_usage_in_bytes"))
	s.LimitHits = readInt(filepath.Join(g.dir, "memory.failcnt"))
	return err
}

func (g *Group) ioStats(s *Stats) error {
	if g.c.Version == 2 {
		data, err := os.ReadFile(filepath.Join(g.dir, "io.stat"))
		for _, f := range strings.Fields(string(data)) {
			k, v, _ := strings.Cut(f, "=")
			n, _ := strconv.ParseInt(v, 10, 64)
			switch k {
			case "rbytes":
				s.ReadBytes += n
			case "wbytes":
				s.WriteBytes += n
			}
		}
		return err
	}
	data, err := os.ReadFile(filepath.Join(g.dir, "blkio.throttle.io_service_bytes"))
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line) // MAJ:MIN Read|Write|... N
		if len(f) != 3 {
			continue
		}
		n, _ := strconv.ParseInt(f[2], 10, 64)
		switch f[1] {
		case "Read":
			s.ReadBytes += n
		case "Write":
			s.WriteBytes += n
		}
	}
	return err
}

// readKV reads a file of "key value" lines.
func readKV(path string) (map[string]int64, error) {
	data, err := os.ReadFile(path)
	kv := map[string]int64{}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			kv[f[0]], _ = strconv.ParseInt(f[1], 10, 64)
		}
	}
	return kv, err
}

// readInt reads a file holding one number; 0 when it cannot.
func readInt(path string) int64 {
	data, _ := os.ReadFile(path)
	n, _ := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	return n
}
