package httpload

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// ackID returns the id of an acknowledged write: the field of the JSON body
// named by path (a top-level key, or keys joined by dots for nested objects:
// "data.id"), a number (as written) or a non-empty string. A body without it
// is an error: the write was not acknowledged.
func ackID(body []byte, path string) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("ack %q: response is not JSON (%v): the write was not acknowledged", path, err)
	}
	for _, key := range strings.Split(path, ".") {
		obj, ok := v.(map[string]any)
		if !ok {
			return "", fmt.Errorf("ack %q: response has no object holding %q: the write was not acknowledged", path, key)
		}
		if v, ok = obj[key]; !ok {
			return "", fmt.Errorf("ack %q: response has no field %q: the write was not acknowledged", path, key)
		}
	}
	switch id := v.(type) {
	case json.Number:
		return id.String(), nil
	case string:
		if id != "" {
			return id, nil
		}
	}
	return "", fmt.Errorf("ack %q: field is %s, want a number or a non-empty string: the write was not acknowledged", path, describe(v))
}

// describe names a decoded JSON value's kind for an error.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return fmt.Sprintf("%q", x)
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%v", v)
}
