package config

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Select says which replicas of its target a fault acts on:
//
//	select: all                # every replica (the default)
//	select: one                # one, drawn from the seed
//	select: {count: 2}         # two, drawn from the seed
//	select: {percent: 50}      # half of them (rounded up), drawn from the seed
//	select: {index: [0, 2]}    # replicas 0 and 2
//
// A draw is a pure function of the experiment's seed and the fault's name
// (Pick): the same seed picks the same replicas.
type Select struct {
	// Mode is all (the zero value), one, count, percent or index.
	Mode string `yaml:"-"`
	// Count is how many replicas count draws.
	Count int `yaml:"count"`
	// Percent is the share of the replicas percent draws, from above 0 to
	// 100.
	Percent float64 `yaml:"percent"`
	// Index lists the replicas index picks.
	Index []int `yaml:"index"`
}

// The modes of Select.
const (
	SelectAll     = "all"
	SelectOne     = "one"
	SelectCount   = "count"
	SelectPercent = "percent"
	SelectIndex   = "index"
)

var selectType = reflect.TypeFor[Select]()

// String renders the selection as written: "one", "count 2", "index [0 2]".
func (s *Select) String() string {
	switch s.mode() {
	case SelectCount:
		return "count " + strconv.Itoa(s.Count)
	case SelectPercent:
		return "percent " + strconv.FormatFloat(s.Percent, 'f', -1, 64)
	case SelectIndex:
		return fmt.Sprint("index ", s.Index)
	}
	return s.mode()
}

func (s *Select) mode() string {
	if s == nil || s.Mode == "" {
		return SelectAll
	}
	return s.Mode
}

// Draws reports whether the selection is drawn from the seed (one, count,
// percent) rather than written out.
func (s *Select) Draws() bool {
	m := s.mode()
	return m == SelectOne || m == SelectCount || m == SelectPercent
}

// Pick returns the sorted indexes of the replicas, out of n, the fault
// called name acts on, drawn from seed when the selection draws; an error
// when the selection asks for more replicas than there are.
func (s *Select) Pick(n int, seed int64, name string) ([]int, error) {
	want := n
	switch s.mode() {
	case SelectOne:
		want = 1
	case SelectCount:
		want = s.Count
	case SelectPercent:
		want = int(math.Ceil(s.Percent / 100 * float64(n)))
	case SelectIndex:
		for _, i := range s.Index {
			if i >= n {
				return nil, fmt.Errorf("select: index %d, but the target has %d %s", i, n, plural(n, "replica"))
			}
		}
		return slices.Sorted(slices.Values(s.Index)), nil
	}
	if want > n {
		return nil, fmt.Errorf("select: %s, but the target has %d %s", s, n, plural(n, "replica"))
	}
	perm := drawRand(seed, name).Perm(n)
	out := perm[:max(want, 1)]
	slices.Sort(out)
	return out, nil
}

// drawRand is the random source of the fault called name: the seed and the
// name, hashed, so that a fault added to a file leaves the others' draws.
func drawRand(seed int64, name string) *rand.Rand {
	h := fnv.New64a()
	_, _ = h.Write([]byte(name))
	return rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
}

// decodeSelect reads `one`, `all` or a mapping with one of count, percent
// and index.
func (p *parser) decodeSelect(n *yaml.Node, v reflect.Value, path string) {
	s := v.Addr().Interface().(*Select)
	if n.Kind == yaml.ScalarNode {
		switch n.Value {
		case SelectAll, SelectOne:
			s.Mode = n.Value
		default:
			p.errorf(n, path, "want all, one, {count: N}, {percent: P} or {index: [i, ...]}, got %s", describeNode(n))
		}
		return
	}
	p.decodeStruct(n, v, path)
	if n.Kind != yaml.MappingNode {
		return
	}
	var keys []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		keys = append(keys, n.Content[i].Value)
	}
	if len(keys) != 1 {
		p.errorf(n, path, "want exactly one of count, percent and index, got %s", listOr(keys, "none"))
		return
	}
	s.Mode = keys[0]
}

// selection checks a fault's select: against its target's replicas, when
// the file says how many there are.
func (c *checker) selection(f *Fault, path string) {
	if f.Select == nil {
		return
	}
	path += ".select"
	t := c.e.Target(f.Target)
	if t == nil {
		return
	}
	if f.Select.Mode == SelectIndex && len(f.Select.Index) == 0 {
		c.errorf(path+".index", "is empty; list the replicas, e.g. [0, 2]")
		return
	}
	if idx := slices.Sorted(slices.Values(f.Select.Index)); len(slices.Compact(idx)) < len(f.Select.Index) {
		c.errorf(path+".index", "names a replica twice; list each once, e.g. [0, 2]")
		return
	}
	n, known := t.ReplicaCount()
	if !known {
		return
	}
	if n == 1 && !c.singleSelect(f.Select) {
		c.errorf(path, "target %q has one upstream: select applies to replicas (upstreams: [a, b, ...]); "+
			"valid here: all, one or {index: [0]}", t.Name)
		return
	}
	if s := f.Select; s.Percent > 100 || s.Percent < 0 || s.Count < 0 {
		return // out of its span: c.ranges says so
	}
	if _, err := f.Select.Pick(n, 0, f.Name); err != nil {
		c.errorf(path, "%s", strings.TrimPrefix(err.Error(), "select: "))
	}
}

// singleSelect reports whether s makes sense on a target of one upstream.
func (c *checker) singleSelect(s *Select) bool {
	switch s.mode() {
	case SelectAll, SelectOne:
		return true
	case SelectIndex:
		return len(s.Index) == 1 && s.Index[0] == 0
	}
	return false
}
