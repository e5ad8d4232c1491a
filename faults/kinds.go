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
	Latency:        {params("latency", "jitter", "direction"), checkLatency},
	Bandwidth:      {params("rate", "direction"), checkBandwidth},
	SlowClose:      {params("delay", "direction"), checkSlowClose},
	Timeout:        {params("timeout"), checkTimeout},
	ResetPeer:      {params("timeout"), checkTimeout},
	Reset:          {params(), noChecks},
	Slicer:         {params("size", "sizeVariation", "delay", "direction"), checkSlicer},
	LimitData:      {params("bytes", "direction"), checkLimitData},
	Down:           {params(), noChecks},
	Loss:           {params("rate", "rto", "mode", "direction"), checkLoss},
	ConnLimit:      {params("max", "onExcess"), checkConnLimit},
	ConnectDelay:   {params("delay", "jitter"), checkConnectDelay},
	PoolExhaustion: {params("leaveFree", "reserved"), checkPoolExhaustion},
	HTTPError:      {params("match", "probability", "status", "headers", "body"), checkProtocolFault},
	HTTPDelay:      {params("match", "probability", "latency", "jitter", "direction"), checkProtocolFault},
	PGError:        {params("match", "probability", "code", "message"), checkProtocolFault},
	PGDelay:        {params("match", "probability", "latency", "jitter"), checkProtocolFault},
	RedisError:     {params("match", "probability", "message"), checkProtocolFault},
	RedisDelay:     {params("match", "probability", "latency", "jitter"), checkProtocolFault},
	Kill:           {params("pid", "process", "signal"), checkKill},
	Pause:          {params("pid", "process"), checkProcessTarget},
	CPULimit:       {params("pid", "process", "cpus"), checkCPULimit},
	MemoryLimit:    {params("pid", "process", "bytes"), checkMemoryLimit},
	IOLimit:        {params("pid", "process", "path", "readRate", "writeRate"), checkIOLimit},
	CPUHog:         {params("cores"), checkCPUHog},
	MemoryHog:      {params("bytes"), checkMemoryHog},
	DiskFill:       {params("path", "fill", "bytes"), checkDiskFill},
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
