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
var common = []string{"name", "target", "kind", "startTime", "duration", "toxicity"}

func params(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range append(append([]string{}, common...), names...) {
		m[n] = true
	}
	return m
}

var specs = map[Kind]kindSpec{
	Latency: {params("latency", "jitter", "direction"), func(f *Fault) []Problem {
		var ps []Problem
		if f.Latency <= 0 {
			ps = append(ps, Problem{"latency", "is required and must be positive (e.g. 100ms)"})
		}
		if f.Jitter < 0 || f.Jitter > f.Latency {
			ps = append(ps, Problem{"jitter", "must be between 0 and latency"})
		}
		switch f.Direction {
		case "", Upstream, Downstream, Both:
		default:
			ps = append(ps, Problem{"direction", "must be upstream, downstream or both"})
		}
		return ps
	}},
	Reset: {params(), noChecks},
	Down:  {params(), noChecks},
	PoolExhaustion: {params("leaveFree"), func(f *Fault) []Problem {
		if f.LeaveFree < 0 {
			return []Problem{{"leaveFree", "must not be negative"}}
		}
		return nil
	}},
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
	if f.Latency != 0 {
		s = append(s, "latency")
	}
	if f.Jitter != 0 {
		s = append(s, "jitter")
	}
	if f.Direction != "" {
		s = append(s, "direction")
	}
	if f.LeaveFree != 0 {
		s = append(s, "leaveFree")
	}
	return s
}
