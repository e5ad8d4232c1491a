package host

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Version is a cgroup version: 1 (a hierarchy per controller, as on this
// project's machines) or 2 (one unified hierarchy, as on most CI runners).
type Version int

// Controllers, by their cgroup v2 names (v1 calls io "blkio").
const (
	CPU    = "cpu"
	Memory = "memory"
	IO     = "io"
)

// Cgroups is the machine's cgroup layout, read from /proc/self/mountinfo.
type Cgroups struct {
	Version Version
	// mounts maps a controller to its hierarchy's mount point (v2: every
	// controller to the one mount).
	mounts map[string]string
	// v2root is the unified hierarchy's mount point (v2 only).
	v2root string
}

// groupSeq numbers this process's cgroups.
var groupSeq atomic.Uint32

// Detect reads how cgroups are mounted: v2 when /sys/fs/cgroup (or the
// only cgroup2 mount with controllers) is the unified hierarchy, v1 when
// controllers have hierarchies of their own.
func Detect() (*Cgroups, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	defer f.Close()
	return detect(f, func(mnt string) ([]byte, error) { return os.ReadFile(filepath.Join(mnt, "cgroup.controllers")) })
}

// detect reads a mountinfo and, for cgroup2 mounts, their controllers.
func detect(mountinfo io.Reader, controllers func(mnt string) ([]byte, error)) (*Cgroups, error) {
	c := &Cgroups{mounts: map[string]string{}}
	var v2 []string
	sc := bufio.NewScanner(mountinfo)
	for sc.Scan() {
		// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS ... - FSTYPE SOURCE SUPEROPTS
		fields := strings.Fields(sc.Text())
		sep := indexOf(fields, "-")
		if sep < 0 || sep+3 >= len(fields) || len(fields) < 5 {
			continue
		}
		mnt, fstype, super := fields[4], fields[sep+1], fields[sep+3]
		switch fstype {
		case "cgroup":
			for _, opt := range strings.Split(super, ",") {
				switch opt {
				case "cpu", "memory":
					c.mounts[opt] = mnt
				case "blkio":
					c.mounts[IO] = mnt
				}
			}
		case "cgroup2":
			v2 = append(v2, mnt)
		}
	}
	if len(c.mounts) > 0 {
		c.Version = 1
		return c, nil
	}
	for _, mnt := range v2 {
		if ctrls, err := controllers(mnt); err == nil && len(strings.TrimSpace(string(ctrls))) > 0 {
			c.Version, c.v2root = 2, mnt
			for _, ctrl := range strings.Fields(string(ctrls)) {
				c.mounts[ctrl] = mnt
			}
			return c, nil
		}
	}
	return nil, errors.New("cgroups: no cgroup v1 controller hierarchy and no cgroup v2 hierarchy with controllers is mounted")
}

func indexOf(s []string, x string) int {
	for i, v := range s {
		if v == x {
			return i
		}
	}
	return -1
}

// v1Name is a controller's name in cgroup v1.
func v1Name(ctrl string) string {
	if ctrl == IO {
		return "blkio"
	}
	return ctrl
}

// Check says why a limit on ctrl cannot be set here, or nil: it needs root
// and the controller (mounted in v1, available in v2).
func (c *Cgroups) Check(ctrl string) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("a cgroup %s limit needs root (running as uid %d)", ctrl, os.Geteuid())
	}
	if _, ok := c.mounts[ctrl]; !ok {
		if c.Version == 1 {
			return fmt.Errorf("the cgroup v1 %s controller is not mounted (see /proc/self/mountinfo)", v1Name(ctrl))
		}
		return fmt.Errorf("the cgroup v2 %s controller is not available in %s/cgroup.controllers", ctrl, c.v2root)
	}
	return nil
}

// Setting is one file of a cgroup and the value written to it.
type Setting struct{ File, Value string }

// Group is processes confined in a cgroup of chaosload's own
// (chaosload_<pid>_<n>), with a limit, until Release.
type Group struct {
	c     *Cgroups
	ctrl  string
	dir   string // the group
	ret   string // where its processes go back to
	j     *Journal
	entry string
	pids  []int
}

// Confine makes a cgroup for controller ctrl, writes settings into it and
// moves pids into it (their children forked later are born in it). In v1
// the group is a child of the first process's own cgroup in that
// hierarchy, so the limits of every group above it still hold; in v2 it is
// a child of the hierarchy's root, where controllers may be enabled while
// processes run. The guard removes it should chaosload die before Release.
func (c *Cgroups) Confine(j *Journal, ctrl string, pids []int, settings []Setting) (*Group, error) {
	if err := c.Check(ctrl); err != nil {
		return nil, err
	}
	mnt := c.mounts[ctrl]
	own, err := cgroupOf(pids[0], c.Version, v1Name(ctrl))
	if err != nil {
		return nil, err
	}
	ret := filepath.Join(mnt, own)
	parent := ret
	if c.Version == 2 {
		parent = mnt
		if err := enable(mnt, ctrl); err != nil {
			return nil, err
		}
	}
	g := &Group{c: c, ctrl: ctrl, ret: ret, j: j, pids: pids,
		dir: filepath.Join(parent, fmt.Sprintf("chaosload_%d_%d", os.Getpid(), groupSeq.Add(1)))}
	undo := fmt.Sprintf("while read p; do echo \"$p\" > %s/cgroup.procs; done < %s/cgroup.procs\nrmdir %s\n",
		quote(g.ret), quote(g.dir), quote(g.dir))
	if g.entry, err = j.add(undo); err != nil {
		return nil, err
	}
	if err := os.Mkdir(g.dir, 0o755); err != nil {
		_ = j.done(g.entry)
		return nil, fmt.Errorf("make cgroup %s: %w", g.dir, err)
	}
	if err := g.setup(settings); err != nil {
		return nil, errors.Join(err, g.Release(context.Background()))
	}
	return g, nil
}

// setup writes the settings, then moves the processes in.
func (g *Group) setup(settings []Setting) error {
	for _, s := range settings {
		if err := writeFile(filepath.Join(g.dir, s.File), s.Value); err != nil {
			return err
		}
	}
	moved := 0
	for _, p := range g.pids {
		err := writeFile(filepath.Join(g.dir, "cgroup.procs"), strconv.Itoa(p))
		switch {
		case err == nil:
			moved++
		case !errors.Is(err, syscall.ESRCH):
			return err
		}
	}
	if moved == 0 {
		return fmt.Errorf("move into %s: none of processes %v is alive", g.dir, g.pids)
	}
	return nil
}

// enable makes ctrl available to the children of a v2 root.
func enable(root, ctrl string) error {
	cur, err := os.ReadFile(filepath.Join(root, "cgroup.subtree_control"))
	if err == nil && containsWord(string(cur), ctrl) {
		return nil
	}
	if err := writeFile(filepath.Join(root, "cgroup.subtree_control"), "+"+ctrl); err != nil {
		return fmt.Errorf("enable the cgroup v2 %s controller for %s's children: %w", ctrl, root, err)
	}
	return nil
}

func containsWord(s, w string) bool {
	for _, f := range strings.Fields(s) {
		if f == w {
			return true
		}
	}
	return false
}

// Dir is the group's directory.
func (g *Group) Dir() string { return g.dir }

// Procs lists the processes in the group now.
func (g *Group) Procs() []int {
	data, _ := os.ReadFile(filepath.Join(g.dir, "cgroup.procs"))
	var out []int
	for _, f := range strings.Fields(string(data)) {
		if p, err := strconv.Atoi(f); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// Release moves every process of the group back where the first came
// from and removes the group. It is idempotent; ctx bounds the wait for
// the kernel to let the directory go.
func (g *Group) Release(ctx context.Context) error {
	if g.entry == "" {
		return nil
	}
	for _, p := range g.Procs() {
		if err := writeFile(filepath.Join(g.ret, "cgroup.procs"), strconv.Itoa(p)); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("move pid %d back to %s: %w", p, g.ret, err)
		}
	}
	if err := removeGroup(ctx, g.dir); err != nil {
		return err
	}
	err := g.j.done(g.entry)
	g.entry = ""
	return err
}

// removeGroup removes an empty cgroup, retrying while the kernel still
// counts a process that just left (EBUSY).
func removeGroup(ctx context.Context, dir string) error {
	for {
		err := syscall.Rmdir(dir)
		if err == nil || errors.Is(err, syscall.ENOENT) {
			return nil
		}
		if !errors.Is(err, syscall.EBUSY) {
			return fmt.Errorf("remove cgroup %s: %w", dir, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("remove cgroup %s: still busy: %w", dir, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// cgroupOf is pid's cgroup path in the v1 hierarchy of ctrl, or in the v2
// hierarchy, from /proc/PID/cgroup.
func cgroupOf(pid int, v Version, ctrl string) (string, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return "", fmt.Errorf("read the cgroup of pid %d: %w", pid, err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3) // ID:CONTROLLERS:PATH
		if len(parts) != 3 {
			continue
		}
		if v == 2 && parts[0] == "0" && parts[1] == "" {
			return parts[2], nil
		}
		if v == 1 && containsWord(strings.ReplaceAll(parts[1], ",", " "), ctrl) {
			return parts[2], nil
		}
	}
	return "", fmt.Errorf("pid %d is in no cgroup of the %s controller (/proc/%d/cgroup)", pid, ctrl, pid)
}

// writeFile writes value to a cgroup file (no truncation, one write).
func writeFile(path, value string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %q to %s: %w", value, path, err)
	}
	return nil
}
