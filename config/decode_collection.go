package config

import (
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// field is one YAML key of a struct type.
type field struct {
	name  string
	index []int
}

// fieldsOf lists the YAML keys of struct type t in declaration order:
// exported fields, named by their yaml tag (the lower-cased field name when
// untagged), fields tagged "-" left out, ",inline" structs merged.
func fieldsOf(t reflect.Type) []field {
	var fs []field
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if strings.Contains(","+opts+",", ",inline,") && sf.Type.Kind() == reflect.Struct {
			for _, sub := range fieldsOf(sf.Type) {
				fs = append(fs, field{sub.name, append([]int{i}, sub.index...)})
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(sf.Name)
		}
		fs = append(fs, field{name, []int{i}})
	}
	return fs
}

// keysOf lists the YAML keys of struct type t.
func keysOf(t reflect.Type) []string {
	fs := fieldsOf(t)
	keys := make([]string, len(fs))
	for i, f := range fs {
		keys[i] = f.name
	}
	return keys
}

// isNamed reports whether t is a struct whose Name field is tagged yaml:"-":
// a slice of such is written as a mapping from names to entries.
func isNamed(t reflect.Type) bool {
	if t.Kind() != reflect.Struct {
		return false
	}
	sf, ok := t.FieldByName("Name")
	return ok && len(sf.Index) == 1 && sf.Type.Kind() == reflect.String && sf.Tag.Get("yaml") == "-"
}

// eachPair calls fn for every key/value pair of mapping n whose key is a
// plain scalar given once; other keys are reported and skipped.
func (p *parser) eachPair(n *yaml.Node, path string, fn func(k, v *yaml.Node)) {
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case k.Kind != yaml.ScalarNode: // reported without failing path: its other keys still count
			p.add(p.nodePos(k), prefix(path, "a key must be a plain name, got "+describeNode(k)))
		case k.ShortTag() == "!!merge":
			p.add(p.nodePos(k), prefix(path, "merge keys (<<) are not supported; write the keys out"))
		case seen[k.Value] != nil:
			p.errorf(k, join(path, k.Value), "given twice (first %s)", p.where(seen[k.Value]))
		default:
			seen[k.Value] = k
			fn(k, v)
		}
	}
}

// where renders where n was written for a message: "at line 3", or "in
// --set a=b".
func (p *parser) where(n *yaml.Node) string {
	if pos := p.nodePos(n); pos.Line <= 0 {
		return "in " + pos.File
	}
	return "at line " + strconv.Itoa(n.Line)
}

// record remembers where the field at path was written: at its value when
// that is a single value, else at its key.
func (p *parser) record(path string, k, v *yaml.Node) {
	n := k
	if v.Kind == yaml.ScalarNode && !isNull(v) {
		n = v
	}
	p.pos[path] = p.nodePos(n)
}

func (p *parser) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		p.wrongType(n, v.Type(), path)
		return
	}
	fields := fieldsOf(v.Type())
	p.pos[path] = p.nodePosOr(path, n)
	p.eachPair(n, path, func(k, val *yaml.Node) {
		f, ok := fieldNamed(fields, k.Value)
		if !ok {
			p.unknownKey(k, path, keysOf(v.Type()))
			return
		}
		fp := join(path, k.Value)
		p.record(fp, k, val)
		p.decodeValue(val, v.FieldByIndex(f.index), fp)
	})
}

// nodePosOr keeps the position already recorded for path (its key), else
// takes n's (the top of the file).
func (p *parser) nodePosOr(path string, n *yaml.Node) Pos {
	if pos, ok := p.pos[path]; ok {
		return pos
	}
	return p.nodePos(n)
}

func fieldNamed(fs []field, name string) (field, bool) {
	for _, f := range fs {
		if f.name == name {
			return f, true
		}
	}
	return field{}, false
}

// unknownKey reports key k, which is not one of valid.
func (p *parser) unknownKey(k *yaml.Node, path string, valid []string) {
	p.add(p.nodePos(k), prefix(path, "unknown key "+strconv.Quote(k.Value)+didYouMean(k.Value, valid)+
		"; valid keys: "+strings.Join(valid, ", ")))
}

func (p *parser) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	if isNamed(v.Type().Elem()) {
		p.decodeNamed(n, v, path)
		return
	}
	if n.Kind != yaml.SequenceNode {
		p.wrongType(n, v.Type(), path)
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		ip := join(path, strconv.Itoa(i))
		p.pos[ip] = p.nodePos(item)
		p.decodeValue(item, s.Index(i), ip)
	}
	v.Set(s)
}

// decodeNamed decodes a mapping name → entry into a slice of entries whose
// Name is the key, in file order.
func (p *parser) decodeNamed(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		p.wrongType(n, v.Type(), path)
		return
	}
	s := reflect.MakeSlice(v.Type(), 0, len(n.Content)/2)
	p.eachPair(n, path, func(k, val *yaml.Node) {
		elem := reflect.New(v.Type().Elem()).Elem()
		elem.FieldByName("Name").SetString(k.Value)
		ep := join(path, k.Value)
		p.pos[ep] = p.nodePos(k)
		if isNull(val) {
			p.errorf(k, ep, "want %s, got nothing", describeWant(elem.Type()))
		} else {
			p.decodeValue(val, elem, ep)
		}
		s = reflect.Append(s, elem)
	})
	v.Set(s)
}

func (p *parser) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	t := v.Type()
	if t.Key().Kind() != reflect.String {
		p.errorf(n, path, "the schema type %s cannot be decoded (a bug in chaosload)", t)
		return
	}
	if n.Kind != yaml.MappingNode {
		p.wrongType(n, t, path)
		return
	}
	m := reflect.MakeMapWithSize(t, len(n.Content)/2)
	p.eachPair(n, path, func(k, val *yaml.Node) {
		kp := join(path, k.Value)
		p.record(kp, k, val)
		elem := reflect.New(t.Elem()).Elem()
		p.decodeValue(val, elem, kp)
		m.SetMapIndex(reflect.ValueOf(k.Value).Convert(t.Key()), elem)
	})
	v.Set(m)
}

// decodeAny decodes plain YAML into an empty interface (a JSON body).
func (p *parser) decodeAny(n *yaml.Node, v reflect.Value, path string) {
	if v.NumMethod() != 0 {
		p.errorf(n, path, "the schema type %s cannot be decoded (a bug in chaosload)", v.Type())
		return
	}
	if x := p.plain(n, path); x != nil {
		v.Set(reflect.ValueOf(x))
	}
}

// plain converts n to map[string]any, []any or a scalar (string, int,
// float64, bool, nil).
func (p *parser) plain(n *yaml.Node, path string) any {
	switch {
	case n.Kind == yaml.AliasNode:
		p.errorf(n, path, "aliases (*%s) are not supported; write the value out", n.Value)
		return nil
	case n.Anchor != "":
		p.errorf(n, path, "anchors (&%s) are not supported; write the value out", n.Anchor)
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		p.eachPair(n, path, func(k, val *yaml.Node) { m[k.Value] = p.plain(val, join(path, k.Value)) })
		return m
	case yaml.SequenceNode:
		s := make([]any, len(n.Content))
		for i, item := range n.Content {
			s[i] = p.plain(item, join(path, strconv.Itoa(i)))
		}
		return s
	}
	return p.plainScalar(n, path)
}

func (p *parser) plainScalar(n *yaml.Node, path string) any {
	var x any
	if err := safeDecode(n, &x); err != nil {
		p.errorf(n, path, "%s is not a plain value: %v", describeNode(n), err)
		return nil
	}
	if f, ok := x.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
		p.errorf(n, path, "%s has no JSON form; want a finite number", n.Value)
		return nil
	}
	return x
}

// sortedKeys returns the keys of a map value in order.
func sortedKeys(m reflect.Value) []reflect.Value {
	keys := m.MapKeys()
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	return keys
}
