package config

import (
	"reflect"
	"strconv"
)

// walkStrings calls fn with every string of v that came from a YAML scalar,
// with its field path ("scenarios.shoppers.steps.0.http.url"), and stores
// what fn returns when it differs; it reports whether anything changed, so a
// walk whose fn changes nothing writes nothing (Validate stays read-only).
// It follows the decoder's layout: fields by yaml key (those tagged "-" are
// skipped: names, Step.Target), named lists by name, lists by index, maps
// (headers, JSON bodies) by key. Thresholds are parsed values and skipped.
func walkStrings(v reflect.Value, path string, fn func(path, s string) string) bool {
	switch v.Kind() {
	case reflect.String:
		out := fn(path, v.String())
		if out == v.String() || !v.CanSet() {
			return false
		}
		v.SetString(out)
		return true
	case reflect.Pointer:
		return !v.IsNil() && walkStrings(v.Elem(), path, fn)
	case reflect.Interface:
		return walkInterface(v, path, fn)
	case reflect.Struct:
		changed := false
		for _, f := range fieldsOf(v.Type()) {
			changed = walkStrings(v.FieldByIndex(f.index), join(path, f.name), fn) || changed
		}
		return changed
	case reflect.Slice:
		return walkSlice(v, path, fn)
	case reflect.Map:
		return walkMap(v, path, fn)
	}
	return false
}

func walkSlice(v reflect.Value, path string, fn func(path, s string) string) bool {
	if v.Type() == thresholdsType {
		return false
	}
	named := isNamed(v.Type().Elem())
	changed := false
	for i := 0; i < v.Len(); i++ {
		key := strconv.Itoa(i)
		if named {
			key = v.Index(i).FieldByName("Name").String()
		}
		changed = walkStrings(v.Index(i), join(path, key), fn) || changed
	}
	return changed
}

// walkMap walks a map's values in key order through settable copies, since
// map elements are not addressable, and stores back the changed ones.
func walkMap(v reflect.Value, path string, fn func(path, s string) string) bool {
	if v.Type().Key().Kind() != reflect.String {
		return false
	}
	changed := false
	for _, k := range sortedKeys(v) {
		cp := reflect.New(v.Type().Elem()).Elem()
		cp.Set(v.MapIndex(k))
		if walkStrings(cp, join(path, k.String()), fn) {
			v.SetMapIndex(k, cp)
			changed = true
		}
	}
	return changed
}

// walkInterface walks the value inside an interface through a settable
// copy, and puts the copy back when it changed.
func walkInterface(v reflect.Value, path string, fn func(path, s string) string) bool {
	if v.IsNil() {
		return false
	}
	inner := v.Elem()
	cp := reflect.New(inner.Type()).Elem()
	cp.Set(inner)
	if !walkStrings(cp, path, fn) {
		return false
	}
	if v.CanSet() {
		v.Set(cp)
	}
	return true
}
