package config

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// --set overrides. Each is PATH=VALUE, applied in order to the node tree of
// the file before anything is expanded or decoded, so an override goes
// through the same strict decoder as the file:
//
//	stack.mode=naive                         a key of a mapping
//	scenarios.shoppers.duration=20s          a named entry (scenarios, targets) by its key
//	faults.0.startTime=10s                   a list entry by index...
//	faults.pg-connections-exhausted.duration=10s   ...or by its name: key
//	thresholds.latency=["p(95) < 200ms"]     the value is YAML: a list replaces the list
//	thresholds.errors=rate < 5%              ...and a single expression is one too
//	recovery.within=20s                      a missing mapping (recovery:) is created
//
// PATH is split at dots. VALUE is read as a YAML flow value: a scalar, [a, b]
// or {k: v}; an empty VALUE is the empty string. A list entry cannot be
// added by --set. Problems are reported at the position "--set PATH=VALUE".

// applySets applies every override to root.
func (p *parser) applySets(root *yaml.Node, sets []string) {
	for _, arg := range sets {
		p.applySet(root, arg)
	}
}

// applySet applies one override.
func (p *parser) applySet(root *yaml.Node, arg string) {
	at := Pos{File: "--set " + arg}
	path, value, ok := strings.Cut(arg, "=")
	segs := strings.Split(path, ".")
	if !ok || containsString(segs, "") {
		p.add(at, "want --set PATH=VALUE with a dotted PATH, e.g. --set stack.mode=naive or --set faults.0.startTime=10s")
		return
	}
	val, err := parseSetValue(value)
	if err != nil {
		p.add(at, fmt.Sprintf("the value is not valid YAML (%v); quote it, e.g. --set '%s=\"...\"'", err, path))
		return
	}
	p.markOrigin(val, at)
	n := root
	for i := range segs {
		if n = p.setStep(n, segs[:i+1], i == len(segs)-1, val, at); n == nil {
			return
		}
	}
}

// setStep moves from n to its child named by the last of segs, creating a
// mapping where one is missing; at the last segment it puts val there. It
// returns nil when done or after recording why it cannot go on.
func (p *parser) setStep(n *yaml.Node, segs []string, last bool, val *yaml.Node, at Pos) *yaml.Node {
	seg, parent := segs[len(segs)-1], strings.Join(segs[:len(segs)-1], ".")
	switch n.Kind {
	case yaml.MappingNode:
		return p.setInMapping(n, seg, last, val, at)
	case yaml.SequenceNode:
		i, msg := entryIndex(n, seg)
		if msg != "" {
			p.add(at, prefix(parent, msg))
			return nil
		}
		if last {
			n.Content[i] = val
			return nil
		}
		return n.Content[i]
	}
	p.add(at, prefix(parent, fmt.Sprintf("is %s, which has no %q in it", describeNode(n), seg)))
	return nil
}

// setInMapping is setStep on a mapping.
func (p *parser) setInMapping(n *yaml.Node, key string, last bool, val *yaml.Node, at Pos) *yaml.Node {
	idx := -1
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Value == key {
			idx = i + 1
			break
		}
	}
	if idx < 0 {
		k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}
		p.origin[k] = at
		n.Content = append(n.Content, k, nil)
		idx = len(n.Content) - 1
	} else if !last && n.Content[idx].Kind != yaml.ScalarNode {
		return n.Content[idx]
	} else if !last && !isNull(n.Content[idx]) {
		return n.Content[idx] // a value in the way: setStep reports it
	}
	if last {
		n.Content[idx] = val
		return nil
	}
	m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	p.origin[m] = at
	n.Content[idx] = m
	return m
}

// entryIndex finds the entry of sequence n named by seg: an index, or the
// value of the entries' name: key. msg says why there is none.
func entryIndex(n *yaml.Node, seg string) (int, string) {
	last := len(n.Content) - 1
	if last < 0 {
		return 0, "is an empty list; --set cannot add entries"
	}
	if i, err := strconv.Atoi(seg); err == nil {
		if i < 0 || i > last {
			return 0, fmt.Sprintf("has %d entries; index %d is out of range (0 to %d)", last+1, i, last)
		}
		return i, ""
	}
	var names []string
	for i, item := range n.Content {
		name := entryName(item)
		if name == seg {
			return i, ""
		}
		if name != "" {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return 0, fmt.Sprintf("has no entry named %q (its entries have no name:); use an index from 0 to %d", seg, last)
	}
	return 0, fmt.Sprintf("no entry is named %q%s; names: %s (or use an index from 0 to %d)",
		seg, didYouMean(seg, names), strings.Join(names, ", "), last)
}

// entryName returns the name: of a list entry, "" when it has none.
func entryName(n *yaml.Node) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "name" && n.Content[i+1].Kind == yaml.ScalarNode {
			return n.Content[i+1].Value
		}
	}
	return ""
}

// parseSetValue reads the VALUE of an override as YAML.
func parseSetValue(s string) (n *yaml.Node, err error) {
	if strings.TrimSpace(s) == "" {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: ""}, nil
	}
	defer func() {
		if r := recover(); r != nil {
			n, err = nil, fmt.Errorf("%v", r)
		}
	}()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(s), &doc); err != nil {
		return nil, fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, fmt.Errorf("no value")
	}
	return doc.Content[0], nil
}

// markOrigin records that every node under n came from the override at.
func (p *parser) markOrigin(n *yaml.Node, at Pos) {
	p.origin[n] = at
	for _, c := range n.Content {
		p.markOrigin(c, at)
	}
}
