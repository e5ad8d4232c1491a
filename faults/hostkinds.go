package faults

import (
	"strings"
	"syscall"
)

// The process and host kinds: they act on local processes and on the
// machine, not on a proxy's traffic (package host carries them out).
const (
	// Kill sends a signal (default SIGKILL) to a process: one-shot.
	Kill Kind = "kill"
	// Pause stops a process and its descendants (SIGSTOP) until reverted.
	Pause Kind = "pause"
	// CPULimit confines a process tree to a share of one core (cgroup).
	CPULimit Kind = "cpu-limit"
	// MemoryLimit confines a process tree's memory (cgroup).
	MemoryLimit Kind = "memory-limit"
	// IOLimit throttles a process tree's reads and writes on a device
	// (cgroup).
	IOLimit Kind = "io-limit"
	// CPUHog keeps cores of the machine busy.
	CPUHog Kind = "cpu-hog"
	// MemoryHog holds memory of the machine.
	MemoryHog Kind = "memory-hog"
	// DiskFill fills the filesystem of a directory.
	DiskFill Kind = "disk-fill"
)

// processKinds act on one process (tree): target, pid or process names it.
var processKinds = map[Kind]bool{Kill: true, Pause: true, CPULimit: true, MemoryLimit: true, IOLimit: true}

// hostKinds are every kind that acts on local processes or the machine
// rather than on a proxy: their target, when they take one, names a
// process of the stack, not a proxy target.
var hostKinds = map[Kind]bool{Kill: true, Pause: true, CPULimit: true, MemoryLimit: true, IOLimit: true,
	CPUHog: true, MemoryHog: true, DiskFill: true}

// IsHostKind reports whether k acts on local processes or the machine
// (kill to disk-fill) rather than on a proxy's traffic.
func IsHostKind(k Kind) bool { return hostKinds[k] }

// IsProcessKind reports whether k acts on one process and its descendants
// (kill, pause, cpu-limit, memory-limit, io-limit).
func IsProcessKind(k Kind) bool { return processKinds[k] }

// Signals are the signals kill takes by name.
var Signals = map[string]syscall.Signal{
	"SIGKILL": syscall.SIGKILL, "SIGTERM": syscall.SIGTERM, "SIGINT": syscall.SIGINT, "SIGQUIT": syscall.SIGQUIT,
	"SIGHUP": syscall.SIGHUP, "SIGABRT": syscall.SIGABRT, "SIGSEGV": syscall.SIGSEGV, "SIGUSR1": syscall.SIGUSR1,
	"SIGUSR2": syscall.SIGUSR2,
}

// ParseSignal reads "SIGTERM", "TERM" or "sigterm".
func ParseSignal(s string) (syscall.Signal, bool) {
	s = strings.ToUpper(s)
	if !strings.HasPrefix(s, "SIG") {
		s = "SIG" + s
	}
	sig, ok := Signals[s]
	return sig, ok
}

// checkProcessTarget: exactly one of target, pid and process; no toxicity.
func checkProcessTarget(f *Fault) []Problem {
	var ps problems
	n := 0
	for _, set := range []bool{f.Target != "", f.PID != 0, f.Process != ""} {
		if set {
			n++
		}
	}
	ps.add(n == 0, "target", "is required: a process of the stack (e.g. target: postgres), or pid: N or process: NAME")
	ps.add(n > 1, "target", "give one of target, pid and process")
	ps.add(f.PID < 0, "pid", "must be a positive process id")
	ps.add(f.Toxicity != nil, "toxicity", "is a share of connections; "+string(f.Kind)+" acts on processes: remove it")
	return ps
}

func checkKill(f *Fault) []Problem {
	ps := problems(checkProcessTarget(f))
	if _, ok := ParseSignal(f.Signal); f.Signal != "" && !ok {
		ps.add(true, "signal", "unknown signal; use one of SIGKILL (default), SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGABRT, SIGSEGV, SIGUSR1, SIGUSR2")
	}
	ps.add(f.Duration != 0, "duration", "kill is one-shot (the restart policy decides what follows); remove duration, or use pause to hold a process")
	return ps
}

func checkCPULimit(f *Fault) []Problem {
	ps := problems(checkProcessTarget(f))
	ps.add(f.CPUs <= 0 || f.CPUs > 64, "cpus", "is required: the share of one core allowed, e.g. 0.2 (at least 0.001)")
	ps.add(f.CPUs > 0 && f.CPUs < 0.001, "cpus", "must be at least 0.001: the kernel's smallest CPU quota is 1ms and its longest period 1s")
	return ps
}

func checkMemoryLimit(f *Fault) []Problem {
	ps := problems(checkProcessTarget(f))
	ps.add(f.Bytes < 1<<20, "bytes", "is required: the memory allowed, at least 1MB (e.g. 64MB)")
	return ps
}

func checkIOLimit(f *Fault) []Problem {
	ps := problems(checkProcessTarget(f))
	ps.add(f.Path == "", "path", "is required: a file or directory on the disk to throttle, e.g. the service's data directory")
	ps.add(f.ReadRate.IsZero() && f.WriteRate.IsZero(), "readRate", "give readRate, writeRate or both, e.g. readRate: 1MB/s")
	for field, r := range map[string]Rate{"readRate": f.ReadRate, "writeRate": f.WriteRate} {
		ps.add(r.Share != 0, field, "is a byte rate such as 1MB/s, not a share")
	}
	return ps
}

func checkHostWide(f *Fault) problems {
	var ps problems
	ps.add(f.Target != "", "target", string(f.Kind)+" acts on the whole machine: remove target")
	ps.add(f.Toxicity != nil, "toxicity", "is a share of connections; "+string(f.Kind)+" acts on the machine: remove it")
	return ps
}

func checkCPUHog(f *Fault) []Problem {
	ps := checkHostWide(f)
	ps.add(f.Cores <= 0 || f.Cores > 1024, "cores", "is required: how many cores to keep busy, e.g. 1")
	return ps
}

func checkMemoryHog(f *Fault) []Problem {
	ps := checkHostWide(f)
	ps.add(f.Bytes < 1<<20, "bytes", "is required: the memory to hold, at least 1MB (e.g. 512MB)")
	return ps
}

func checkDiskFill(f *Fault) []Problem {
	ps := checkHostWide(f)
	ps.add(f.Path == "", "path", "is required: the directory whose filesystem is filled (the filler file is made there)")
	ps.add(f.Fill == nil && f.Bytes <= 0, "fill", "give fill (the share of the filesystem to leave used, e.g. 100%), bytes (how much to write), or both (fill, writing at most bytes)")
	ps.add(f.Fill != nil && (*f.Fill <= 0 || *f.Fill > 1), "fill", "must be above 0% and at most 100%")
	ps.add(f.Bytes < 0, "bytes", "must be positive")
	return ps
}

// hostSpec returns the spec of a process or host kind.
func (f *Fault) hostSpec() (Spec, bool) {
	switch f.Kind {
	case Kill:
		sig, ok := ParseSignal(f.Signal)
		if !ok {
			sig = syscall.SIGKILL
		}
		return KillSpec{Signal: sig}, true
	case Pause:
		return PauseSpec{}, true
	case CPULimit:
		return CPULimitSpec{CPUs: f.CPUs}, true
	case MemoryLimit:
		return MemoryLimitSpec{Bytes: int64(f.Bytes)}, true
	case IOLimit:
		return IOLimitSpec{Path: f.Path, Read: int64(f.ReadRate.PerSecond), Write: int64(f.WriteRate.PerSecond)}, true
	case CPUHog:
		return CPUHogSpec{Cores: f.Cores}, true
	case MemoryHog:
		return MemoryHogSpec{Bytes: int64(f.Bytes)}, true
	case DiskFill:
		s := DiskFillSpec{Path: f.Path, Bytes: int64(f.Bytes)}
		if f.Fill != nil {
			s.Share = float64(*f.Fill)
		}
		return s, true
	}
	return nil, false
}

// KillSpec sends Signal to the process.
type KillSpec struct{ Signal syscall.Signal }

// PauseSpec stops the process and its descendants until reverted.
type PauseSpec struct{}

// CPULimitSpec allows the process tree CPUs of one core (0.2: 20%).
type CPULimitSpec struct{ CPUs float64 }

// MemoryLimitSpec allows the process tree Bytes of memory.
type MemoryLimitSpec struct{ Bytes int64 }

// IOLimitSpec throttles the process tree's reads and writes on Path's
// device to Read and Write bytes per second (0: not limited).
type IOLimitSpec struct {
	Path        string
	Read, Write int64
}

// CPUHogSpec keeps Cores cores busy.
type CPUHogSpec struct{ Cores int }

// MemoryHogSpec holds Bytes of memory, every page touched.
type MemoryHogSpec struct{ Bytes int64 }

// DiskFillSpec fills Path's filesystem until Share of it is used, or by
// Bytes (with Share: at most Bytes).
type DiskFillSpec struct {
	Path  string
	Share float64
	Bytes int64
}

// Kind implements Spec.
func (KillSpec) Kind() Kind { return Kill }

// Kind implements Spec.
func (PauseSpec) Kind() Kind { return Pause }

// Kind implements Spec.
func (CPULimitSpec) Kind() Kind { return CPULimit }

// Kind implements Spec.
func (MemoryLimitSpec) Kind() Kind { return MemoryLimit }

// Kind implements Spec.
func (IOLimitSpec) Kind() Kind { return IOLimit }

// Kind implements Spec.
func (CPUHogSpec) Kind() Kind { return CPUHog }

// Kind implements Spec.
func (MemoryHogSpec) Kind() Kind { return MemoryHog }

// Kind implements Spec.
func (DiskFillSpec) Kind() Kind { return DiskFill }
