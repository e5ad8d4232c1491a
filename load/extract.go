package load

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Extract takes one value from a step's response into the VU variable
// Name, read by later steps as ${vu.NAME}. Exactly one source is set:
//
//	json:   a path into the JSON body, keys joined by dots and array
//	        indexes as numbers ("data.items.0.id"); a string is taken as
//	        is, a number as written, true/false as text, an object or
//	        array as its JSON; null or a missing field is an error
//	header: a response header (the first value)
//	regex:  matched against the body; the first group, or the whole match
//	        when the expression has no group
//
// A response without the value is an error of the step (class "error"):
// the flow cannot go on as the user meant it. Only the first
// MaxExtractBody bytes of a body are searched.
type Extract struct {
	Name   string `yaml:"-"`
	JSON   string `yaml:"json"`
	Header string `yaml:"header"`
	Regex  string `yaml:"regex"`
}

// MaxExtractBody bounds how much of a response body is kept to extract
// from (and to find an ack in); the rest is read and counted, never kept.
const MaxExtractBody = 1 << 20

// extractor is an Extract compiled.
type extractor struct {
	name   string
	path   []string // json
	header string
	re     *regexp.Regexp
}

// compileSteps compiles every step's extracts.
func compileSteps(s *Scenario) []error {
	var errs []error
	for i := range s.Steps {
		st := &s.Steps[i]
		st.extractors = nil
		for _, x := range st.Extract {
			e, err := compileExtract(x)
			if err != nil {
				errs = append(errs, fmt.Errorf("step %d (%q): extract %q: %w", i, st.Name, x.Name, err))
				continue
			}
			st.extractors = append(st.extractors, e)
		}
	}
	return errs
}

// compileExtract checks and compiles one Extract.
func compileExtract(x Extract) (extractor, error) {
	e := extractor{name: x.Name, header: x.Header}
	n := 0
	for _, s := range []string{x.JSON, x.Header, x.Regex} {
		if s != "" {
			n++
		}
	}
	switch {
	case !isIdent(x.Name) || x.Name == "id":
		return e, errors.New("the name must be letters, digits, _ and - (not \"id\": ${vu.id} is the VU's id)")
	case n != 1:
		return e, errors.New("give exactly one of json, header, regex")
	case x.JSON != "":
		e.path = strings.Split(x.JSON, ".")
	case x.Regex != "":
		re, err := regexp.Compile(x.Regex)
		if err != nil {
			return e, fmt.Errorf("regex: %w", err)
		}
		e.re = re
	}
	return e, nil
}

// Extracts reports whether the step extracts anything, and whether from
// its body (so a driver knows to keep up to MaxExtractBody of it).
func (s *Step) Extracts() (has, fromBody bool) {
	for _, x := range s.Extract {
		has = true
		fromBody = fromBody || x.Header == ""
	}
	return has, fromBody
}

// ExtractFrom sets the VU variables of step's extracts from a response:
// body is what was kept of it (at most MaxExtractBody bytes), header looks
// up a response header (nil when the protocol has none). It stops at the
// first value it cannot find and returns why.
func (vu *VU) ExtractFrom(step *Step, body []byte, header func(name string) string) error {
	xs := step.extractors
	if len(xs) != len(step.Extract) { // a step New did not prepare
		xs = nil
		for _, x := range step.Extract {
			e, err := compileExtract(x)
			if err != nil {
				return fmt.Errorf("extract %q: %w", x.Name, err)
			}
			xs = append(xs, e)
		}
	}
	for _, x := range xs {
		v, err := x.value(body, header)
		if err != nil {
			return fmt.Errorf("extract %q: %w", x.name, err)
		}
		vu.SetVar(x.name, v)
	}
	return nil
}

// value finds the extractor's value in a response.
func (x extractor) value(body []byte, header func(string) string) (string, error) {
	switch {
	case x.path != nil:
		return jsonValue(body, x.path)
	case x.re != nil:
		m := x.re.FindSubmatch(body)
		if m == nil {
			return "", fmt.Errorf("regex %q matches nothing in the response", x.re)
		}
		return string(m[min(1, len(m)-1)]), nil
	}
	var v string
	if header != nil {
		v = header(x.header)
	}
	if v == "" {
		return "", fmt.Errorf("the response has no header %q", x.header)
	}
	return v, nil
}

// jsonValue returns the value at path in a JSON document.
func jsonValue(body []byte, path []string) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("the response is not JSON: %v", err)
	}
	for i, key := range path {
		var ok bool
		switch node := v.(type) {
		case map[string]any:
			v, ok = node[key]
		case []any:
			n, err := strconv.Atoi(key)
			if ok = err == nil && n >= 0 && n < len(node); ok {
				v = node[n]
			}
		}
		if !ok {
			return "", fmt.Errorf("the response has no %q", strings.Join(path[:i+1], "."))
		}
	}
	switch x := v.(type) {
	case nil:
		return "", fmt.Errorf("%q is null in the response", strings.Join(path, "."))
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	b, _ := json.Marshal(v)
	return string(b), nil
}
