package config

import (
	"encoding"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// The decoder: a small reflection walk from a yaml.Node tree into the schema
// types. It is strict (unknown keys, wrong types and duplicate keys are
// errors), it records where every field was written, and it carries on after
// a problem so that one run reports them all. Its rules, by Go type:
//
//	time.Duration            "30s", "1m30s" (a bare number other than 0 is an error)
//	Command                  [program, arg, ...] or "a shell string"
//	Thresholds               {metric: [expr, ...]} or {metric: expr}
//	encoding.TextUnmarshaler a scalar, given to UnmarshalText
//	*T                       nil when absent or null, else a new T
//	struct                   a mapping; keys are yaml tags; ",inline" merges
//	[]T where T has a Name   a mapping name → T, file order kept
//	  field tagged yaml:"-"
//	[]T                      a sequence
//	map[string]T             a mapping
//	any                      plain YAML: map[string]any, []any, scalars
//	string, bool, numbers    a scalar of that YAML type (a string takes any scalar)
//
// Null (`key:` or `key: ~`) leaves the zero value: absent and null are alike.

var (
	durationType   = reflect.TypeFor[time.Duration]()
	thresholdsType = reflect.TypeFor[Thresholds]()
	commandType    = reflect.TypeFor[Command]()
	textType       = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// decodeValue decodes n into v, the field at path.
func (p *parser) decodeValue(n *yaml.Node, v reflect.Value, path string) {
	if p.failed[path] { // its ${...} could not be expanded: already reported
		return
	}
	if n.Kind == yaml.AliasNode {
		p.errorf(n, path, "aliases (*%s) are not supported; write the value out", n.Value)
		return
	}
	if n.Anchor != "" {
		p.errorf(n, path, "anchors (&%s) are not supported; write the value out", n.Anchor)
	}
	if isNull(n) {
		return
	}
	switch t := v.Type(); {
	case t == thresholdsType:
		p.decodeThresholds(n, v, path)
	case t == durationType:
		p.decodeDuration(n, v, path)
	case t == commandType:
		p.decodeCommand(n, v, path)
	case t == selectType:
		p.decodeSelect(n, v, path)
	case t.Kind() == reflect.Pointer:
		elem := reflect.New(t.Elem())
		p.decodeValue(n, elem.Elem(), path)
		v.Set(elem)
	case reflect.PointerTo(t).Implements(textType):
		p.decodeText(n, v, path)
	default:
		p.decodeKind(n, v, path)
	}
}

// decodeKind decodes n by the kind of v.
func (p *parser) decodeKind(n *yaml.Node, v reflect.Value, path string) {
	switch v.Kind() {
	case reflect.Struct:
		p.decodeStruct(n, v, path)
	case reflect.Slice:
		p.decodeSlice(n, v, path)
	case reflect.Map:
		p.decodeMap(n, v, path)
	case reflect.Interface:
		p.decodeAny(n, v, path)
	case reflect.String:
		p.decodeString(n, v, path)
	case reflect.Bool:
		p.decodeBool(n, v, path)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		p.decodeInt(n, v, path)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		p.decodeUint(n, v, path)
	case reflect.Float32, reflect.Float64:
		p.decodeFloat(n, v, path)
	default:
		p.errorf(n, path, "the schema type %s cannot be decoded (a bug in chaosload)", v.Type())
	}
}

// isNull reports whether n is an explicit or implicit null.
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// wrongType records that n is not the kind of value v wants.
func (p *parser) wrongType(n *yaml.Node, t reflect.Type, path string) {
	p.errorf(n, path, "want %s, got %s", describeWant(t), describeNode(n))
}

func (p *parser) decodeString(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		p.wrongType(n, v.Type(), path)
		return
	}
	v.SetString(n.Value)
}

func (p *parser) decodeBool(n *yaml.Node, v reflect.Value, path string) {
	var b bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || safeDecode(n, &b) != nil {
		p.wrongType(n, v.Type(), path)
		return
	}
	v.SetBool(b)
}

func (p *parser) decodeInt(n *yaml.Node, v reflect.Value, path string) {
	var i int64
	if bigInteger(n) {
		p.errorf(n, path, "%s is out of range; valid: %s", n.Value, validSpan(path, v.Type()))
		return
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		p.wrongType(n, v.Type(), path)
		return
	}
	if safeDecode(n, &i) != nil || v.OverflowInt(i) {
		p.errorf(n, path, "%s is out of range; valid: %s", n.Value, validSpan(path, v.Type()))
		return
	}
	v.SetInt(i)
}

func (p *parser) decodeUint(n *yaml.Node, v reflect.Value, path string) {
	var u uint64
	if bigInteger(n) {
		p.errorf(n, path, "%s is out of range; valid: %s", n.Value, validSpan(path, v.Type()))
		return
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		p.wrongType(n, v.Type(), path)
		return
	}
	if safeDecode(n, &u) != nil || v.OverflowUint(u) {
		p.errorf(n, path, "%s is out of range; valid: %s", n.Value, validSpan(path, v.Type()))
		return
	}
	v.SetUint(u)
}

func (p *parser) decodeFloat(n *yaml.Node, v reflect.Value, path string) {
	var f float64
	tag := n.ShortTag()
	if n.Kind != yaml.ScalarNode || (tag != "!!int" && tag != "!!float") || safeDecode(n, &f) != nil {
		p.wrongType(n, v.Type(), path)
		return
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || v.OverflowFloat(f) {
		p.errorf(n, path, "want a finite number, got %s; valid: %s", n.Value, validSpan(path, v.Type()))
		return
	}
	v.SetFloat(f)
}

// bigInteger reports whether n is a whole number written in digits that
// YAML could not hold in 64 bits (and so tagged a float).
func bigInteger(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Style == 0 && n.ShortTag() == "!!float" && bigIntegerRE.MatchString(n.Value)
}

var bigIntegerRE = regexp.MustCompile(`^[-+]?[0-9][0-9_]*$`)

// decodeDuration reads "30s", "1m30s", "250ms". A bare number is refused
// (30 what?) except 0.
func (p *parser) decodeDuration(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		p.wrongType(n, v.Type(), path)
		return
	}
	s := strings.TrimSpace(n.Value)
	if tag := n.ShortTag(); (tag == "!!int" || tag == "!!float") && s != "0" {
		p.errorf(n, path, "%s has no unit; write a duration such as %ss, %sms or 1m30s", s, s, s)
		return
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		p.errorf(n, path, "want a duration such as 30s, 250ms or 1m30s, got %s", describeNode(n))
		return
	}
	v.SetInt(int64(d))
}

// decodeText gives a scalar to the type's UnmarshalText.
func (p *parser) decodeText(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		p.wrongType(n, v.Type(), path)
		return
	}
	u := v.Addr().Interface().(encoding.TextUnmarshaler)
	if err := safeUnmarshalText(u, n.Value); err != nil {
		p.errorf(n, path, "%v; want %s", err, describeWant(v.Type()))
	}
}

// safeDecode is yaml's own scalar decoding (number bases, .inf, ...), with
// a panic in the library turned into an error.
func safeDecode(n *yaml.Node, out any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return n.Decode(out)
}

// safeUnmarshalText calls UnmarshalText, turning a panic into an error: a
// type of another package must not take Parse down.
func safeUnmarshalText(u encoding.TextUnmarshaler, s string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%q is not valid here", s)
		}
	}()
	return u.UnmarshalText([]byte(s))
}

// innerPos is the position of byte offset off inside scalar n, for errors
// that point into a value (a threshold expression, a ${...}). It is exact
// when the value up to off is written as is on the scalar's first line
// (plain, or quoted without escapes); otherwise, and for values from a
// --set, the scalar's own position is the best there is.
func (p *parser) innerPos(n *yaml.Node, off int) Pos {
	pos := p.nodePos(n)
	if pos.Line <= 0 || pos.Line > len(p.lines) || off < 0 {
		return pos
	}
	lead := 0
	switch n.Style {
	case 0:
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		lead = 1 // the opening quote
	default:
		return pos
	}
	before := n.Value[:min(off, len(n.Value))]
	line := p.lines[pos.Line-1]
	start := byteOfColumn(line, pos.Col)
	if start < 0 || start+lead > len(line) || !strings.HasPrefix(line[start+lead:], before) {
		return pos
	}
	pos.Col += lead + utf8.RuneCountInString(before)
	return pos
}

// byteOfColumn returns the byte index of 1-based rune column col of line,
// -1 when the line is shorter.
func byteOfColumn(line string, col int) int {
	c := 1
	for i := range line {
		if c == col {
			return i
		}
		c++
	}
	return -1
}

// nodePos is where n was written: its line and column in the file, or the
// --set override it came from.
func (p *parser) nodePos(n *yaml.Node) Pos {
	if pos, ok := p.origin[n]; ok {
		return pos
	}
	return p.clamp(Pos{File: p.file, Line: n.Line, Col: n.Column})
}

// clamp keeps pos inside the file: the parser places an empty value at the
// end of a file that has no final line break one line further down.
func (p *parser) clamp(pos Pos) Pos {
	if len(p.lines) == 0 || pos.Line <= 0 {
		return pos
	}
	if pos.Line > len(p.lines) {
		pos.Line = len(p.lines)
		pos.Col = utf8.RuneCountInString(p.lines[pos.Line-1]) + 1
	}
	pos.Col = min(pos.Col, utf8.RuneCountInString(p.lines[pos.Line-1])+1)
	return pos
}

// decodeCommand decodes a sequence of strings into Args, a scalar into
// Shell.
func (p *parser) decodeCommand(n *yaml.Node, v reflect.Value, path string) {
	c := v.Addr().Interface().(*Command)
	switch n.Kind {
	case yaml.ScalarNode:
		c.Shell = n.Value
	case yaml.SequenceNode:
		for i, item := range n.Content {
			if item.Kind != yaml.ScalarNode {
				p.errorf(item, fmt.Sprintf("%s.%d", path, i), "want a string (one argument), got %s", describeNode(item))
				continue
			}
			c.Args = append(c.Args, item.Value)
		}
	default:
		p.errorf(n, path, `want a list of arguments (["app", "--port", "8080"]) or a shell string, got %s`, describeNode(n))
	}
}
