package config

import (
	"reflect"
	"strconv"
	"strings"

	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/load"
	"go.yaml.in/yaml/v3"
)

// textWants says what a text-decoded type looks like, for messages.
var textWants = map[reflect.Type]string{
	reflect.TypeFor[faults.Percent](): "a percentage such as 50% or 0.5",
	reflect.TypeFor[load.Think]():     "a think time such as 100ms or uniform(100ms, 300ms)",
}

// describeWant says what a value of type t is written as.
func describeWant(t reflect.Type) string {
	if s, ok := textWants[t]; ok {
		return s
	}
	switch {
	case t == durationType:
		return "a duration such as 30s or 1m30s"
	case t == thresholdsType:
		return `a mapping from metrics to expressions, e.g. latency: ["p(95) < 100ms"]`
	case reflect.PointerTo(t).Implements(textType):
		return "a single value"
	}
	return describeKind(t)
}

func describeKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return describeWant(t.Elem())
	case reflect.Struct:
		return "a mapping with keys " + strings.Join(keysOf(t), ", ")
	case reflect.Slice:
		if isNamed(t.Elem()) {
			return "a mapping from names to entries (NAME: {...})"
		}
		return "a list"
	case reflect.Map:
		return "a mapping"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number ≥ 0"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a value"
}

// describeNode says what was written, for "want X, got Y".
func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	case yaml.ScalarNode:
		return describeScalar(n)
	}
	return "nothing"
}

func describeScalar(n *yaml.Node) string {
	switch n.ShortTag() {
	case "!!null":
		return "nothing"
	case "!!int", "!!float":
		return "the number " + n.Value
	case "!!bool":
		return n.Value
	case "!!str":
		return "the string " + strconv.Quote(short(n.Value))
	}
	return strconv.Quote(short(n.Value))
}

// short cuts a long value for a message.
func short(s string) string {
	const limit = 60
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && s[cut]&0xC0 == 0x80 { // do not split a UTF-8 sequence
		cut--
	}
	return s[:cut] + "…"
}
