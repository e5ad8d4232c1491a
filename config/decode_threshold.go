package config

import (
	"errors"
	"reflect"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// decodeThresholds reads a mapping from metric keys to expressions:
//
//	latency: ["p(95) < 100ms", "p(99) < 1s"]
//	errors: "rate < 1%"              # a single expression
//	"errors{class:http_5xx}": ["count == 0"]
//
// A grammar error points inside the key or the expression, at the offset the
// parser names.
func (p *parser) decodeThresholds(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		p.wrongType(n, v.Type(), path)
		return
	}
	var ts Thresholds
	p.eachPair(n, path, func(k, val *yaml.Node) {
		kp := join(path, k.Value)
		p.pos[kp] = p.nodePos(k)
		ref, err := ParseMetricRef(k.Value)
		if err != nil {
			p.grammarError(k, kp, err)
			return
		}
		for i, en := range p.expressions(val, kp) {
			ep := join(kp, strconv.Itoa(i))
			p.pos[ep] = p.nodePos(en)
			c, err := ParseCondition(ref.Kind, en.Value)
			if err != nil {
				p.grammarError(en, ep, err)
				continue
			}
			ts = append(ts, Threshold{Metric: ref, Cond: c, Key: k.Value, Pos: p.nodePos(en)})
		}
	})
	v.Set(reflect.ValueOf(ts))
}

// expressions returns the scalar expressions of a threshold key's value: a
// list of strings or a single string.
func (p *parser) expressions(n *yaml.Node, path string) []*yaml.Node {
	const want = `want a list of expressions such as ["p(95) < 100ms"]`
	switch {
	case n.Kind == yaml.ScalarNode && !isNull(n):
		return []*yaml.Node{n}
	case n.Kind != yaml.SequenceNode:
		p.errorf(n, path, "%s, got %s", want, describeNode(n))
		return nil
	case len(n.Content) == 0:
		p.errorf(n, path, "%s, got an empty list", want)
		return nil
	}
	var out []*yaml.Node
	for i, item := range n.Content {
		if item.Kind != yaml.ScalarNode || isNull(item) {
			p.errorf(item, join(path, strconv.Itoa(i)), "want an expression such as \"p(95) < 100ms\", got %s", describeNode(item))
			continue
		}
		out = append(out, item)
	}
	return out
}

// grammarError reports a threshold grammar error inside scalar n.
func (p *parser) grammarError(n *yaml.Node, path string, err error) {
	var se *SyntaxError
	if !errors.As(err, &se) {
		p.errorf(n, path, "in %q: %v", n.Value, err)
		return
	}
	p.errorAt(p.innerPos(n, se.Offset), path, "in %q: %s", n.Value, se.Msg)
}
