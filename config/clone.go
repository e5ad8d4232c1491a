package config

import "reflect"

// Clone returns a deep copy of the experiment: changing the copy (Resolve,
// Quick, a test's own edits) leaves e as it was, down to the strings of a
// JSON body. Only what is never changed after Parse is shared: where each
// field was written, and the unexported insides of values (a scenario's
// data rows once read).
func (e *Experiment) Clone() *Experiment {
	c := *e // the unexported fields (pos, read-only after Parse) are shared
	v := reflect.ValueOf(&c).Elem()
	for i := range v.NumField() {
		if f := v.Field(i); f.CanSet() {
			deepCopy(f, f)
		}
	}
	return &c
}

// deepCopy sets dst, a settable value, to a copy of src that shares no
// pointer, slice or map with it. Unexported struct fields are copied as
// they are (shallow): the schema keeps none that a caller changes.
func deepCopy(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Pointer:
		if src.IsNil() {
			dst.Set(src)
			return
		}
		p := reflect.New(src.Type().Elem())
		deepCopy(p.Elem(), src.Elem())
		dst.Set(p)
	case reflect.Slice:
		if src.IsNil() {
			dst.Set(src)
			return
		}
		s := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		for i := range src.Len() {
			deepCopy(s.Index(i), src.Index(i))
		}
		dst.Set(s)
	case reflect.Map:
		deepCopyMap(dst, src)
	case reflect.Interface:
		if src.IsNil() {
			dst.Set(src)
			return
		}
		inner := reflect.New(src.Elem().Type()).Elem()
		deepCopy(inner, src.Elem())
		dst.Set(inner)
	case reflect.Struct:
		dst.Set(src)
		for i := range dst.NumField() {
			if f := dst.Field(i); f.CanSet() {
				deepCopy(f, src.Field(i))
			}
		}
	case reflect.Array:
		for i := range src.Len() {
			deepCopy(dst.Index(i), src.Index(i))
		}
	default:
		dst.Set(src)
	}
}

func deepCopyMap(dst, src reflect.Value) {
	if src.IsNil() {
		dst.Set(src)
		return
	}
	m := reflect.MakeMapWithSize(src.Type(), src.Len())
	for it := src.MapRange(); it.Next(); {
		v := reflect.New(src.Type().Elem()).Elem()
		deepCopy(v, it.Value())
		m.SetMapIndex(it.Key(), v)
	}
	dst.Set(m)
}
