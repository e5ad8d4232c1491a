package faults

import (
	"sort"
	"strings"
)

// kindSpec describes one kind for validation: which parameters it takes and
// the checks on their values.
type kindSpec struct {
	params   map[string]bool
	validate func(f *Fault) []Problem
}

// common parameters every kind takes.
var common = []string{"name", "target", "kind", "startTime", "duration", "toxicity", "expectEffect"}

func params(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range append(append([]string{}, common...), names...) {
		m[n] = true
	}
	return m
}

var specs = map[Kind]kindSpec{
	Latency:        {params("latency", "jitter", "direction"), bySpec(nil)},
	Bandwidth:      {params("rate", "direction"), bySpec(checkByteRate)},
	SlowClose:      {params("delay", "direction"), bySpec(nil)},
	Timeout:        {params("timeout"), bySpec(nil)},
	ResetPeer:      {params("timeout"), bySpec(nil)},
	Reset:          {params(), noChecks},
	Slicer:         {params("size", "sizeVariation", "delay", "direction"), bySpec(nil)},
	LimitData:      {params("bytes", "direction"), bySpec(nil)},
	Down:           {params(), noChecks},
	Loss:           {params("rate", "rto", "mode", "direction"), bySpec(checkLossWritten)},
	ConnLimit:      {params("max", "onExcess"), bySpec(nil)},
	ConnectDelay:   {params("delay", "jitter"), bySpec(nil)},
	PoolExhaustion: {params("leaveFree", "reserved"), bySpec(nil)},
	HTTPError:      {params("match", "probability", "status", "headers", "body"), bySpec(nil)},
	HTTPDelay:      {params("match", "probability", "latency", "jitter", "direction"), bySpec(nil)},
	PGError:        {params("match", "probability", "code", "message"), bySpec(nil)},
	PGDelay:        {params("match", "probability", "latency", "jitter"), bySpec(nil)},
	RedisError:     {params("match", "probability", "message"), bySpec(nil)},
	RedisDelay:     {params("match", "probability", "latency", "jitter"), bySpec(nil)},
	Kill:           {params("pid", "process", "signal"), checkKill},
	Pause:          {params("pid", "process"), checkProcessTarget},
	CPULimit:       {params("pid", "process", "cpus"), checkCPULimit},
	MemoryLimit:    {params("pid", "process", "bytes"), checkMemoryLimit},
	IOLimit:        {params("pid", "process", "path", "readRate", "writeRate"), checkIOLimit},
	CPUHog:         {params("cores"), checkCPUHog},
	MemoryHog:      {params("bytes"), checkMemoryHog},
	DiskFill:       {params("path", "fill", "bytes"), checkDiskFill},
}

// bySpec validates an entry by the rules on its typed spec (CheckSpec),
// after written's checks of how the entry is written (nil: none); a field
// gets one message.
func bySpec(written func(f *Fault) problems) func(f *Fault) []Problem {
	return func(f *Fault) []Problem {
		var ps problems
		if written != nil {
			ps = written(f)
		}
		ps.addNew(specProblems(f.Spec()))
		return ps
	}
}

// checkByteRate checks that bandwidth's rate is written as a byte rate.
func checkByteRate(f *Fault) problems {
	var ps problems
	switch {
	case f.Rate.IsZero():
		ps.add(true, "rate", "is required: a byte rate per connection, e.g. 64KB/s")
	case f.Rate.Share != 0:
		ps.add(true, "rate", "bandwidth takes a byte rate such as 64KB/s or 1MB/s, not a share ("+f.Rate.String()+")")
	}
	return ps
}

// checkLossWritten checks that loss's rate is written as a share and that
// rto is not written with mode: kernel (the spec holds the default RTO
// whatever the mode).
func checkLossWritten(f *Fault) problems {
	var ps problems
	switch {
	case f.Rate.IsZero():
		ps.add(true, "rate", "is required: the share of packets lost, e.g. 5%")
	case f.Rate.PerSecond != 0:
		ps.add(true, "rate", "loss takes a share such as 5%, not a byte rate ("+f.Rate.String()+")")
	}
	ps.add(f.RTO < 0, "rto", "must not be negative")
	ps.add(f.Mode == Kernel && f.RTO != 0, "rto", "is the model's retransmission timeout; with mode: kernel the kernel's own TCP times retransmissions")
	return ps
}

func noChecks(*Fault) []Problem { return nil }

func (k kindSpec) paramList() string {
	var extra []string
	for p := range k.params {
		if !contains(common, p) {
			extra = append(extra, p)
		}
	}
	if len(extra) == 0 {
		return "none besides " + strings.Join(common[3:], ", ")
	}
	sort.Strings(extra)
	return strings.Join(extra, ", ")
}

func kindList() string {
	s := make([]string, len(Kinds))
	for i, k := range Kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// setFields lists the YAML keys of kind-specific parameters that are set
// (non-zero) in f.
func setFields(f *Fault) []string {
	var s []string
	add := func(set bool, name string) {
		if set {
			s = append(s, name)
		}
	}
	add(f.Latency != 0, "latency")
	add(f.Jitter != 0, "jitter")
	add(f.Direction != "", "direction")
	add(!f.Rate.IsZero(), "rate")
	add(f.Delay != 0, "delay")
	add(f.Timeout != 0, "timeout")
	add(f.Size != 0, "size")
	add(f.SizeVariation != 0, "sizeVariation")
	add(f.Bytes != 0, "bytes")
	add(f.RTO != 0, "rto")
	add(f.Mode != "", "mode")
	add(f.Max != 0, "max")
	add(f.OnExcess != "", "onExcess")
	add(f.LeaveFree != 0, "leaveFree")
	add(f.Reserved != nil, "reserved")
	add(f.Match != nil, "match")
	add(f.Probability != nil, "probability")
	add(f.Status != 0, "status")
	add(len(f.Headers) > 0, "headers")
	add(f.Body != "", "body")
	add(f.Code != "", "code")
	add(f.Message != "", "message")
	add(f.PID != 0, "pid")
	add(f.Process != "", "process")
	add(f.Signal != "", "signal")
	add(f.CPUs != 0, "cpus")
	add(f.Cores != 0, "cores")
	add(f.Path != "", "path")
	add(!f.ReadRate.IsZero(), "readRate")
	add(!f.WriteRate.IsZero(), "writeRate")
	add(f.Fill != nil, "fill")
	return s
}
