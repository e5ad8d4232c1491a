package config

import (
	"errors"
	"reflect"
	"strings"
)

// Resolve expands ${targets.NAME} and ${stack.NAME} (and "$${" to "${") in
// every string field of the experiment, including header values and JSON
// bodies, with lookup, which is given "targets.api", "stack.postgres" and so
// on. The runner calls it once the proxies listen and the stack runs. A
// variable lookup does not know is an error at the variable's position; the
// error, when not nil, is of type Errors, and the strings without a problem
// are resolved all the same.
func (e *Experiment) Resolve(lookup func(name string) (string, bool)) error {
	var errs Errors
	walkStrings(reflect.ValueOf(e).Elem(), "", func(path, s string) string {
		if !strings.Contains(s, "${") {
			return s
		}
		out, err := Expand(s, lookup)
		if err != nil {
			pos := e.posNear(path)
			var se *SyntaxError
			if errors.As(err, &se) {
				pos = e.refPos(path, se.Offset)
			}
			errs = append(errs, &Error{Pos: pos, Msg: prefix(path, err.Error())})
			return s
		}
		return out
	})
	return errs.err()
}

// eachRef calls fn for every ${...} in the experiment's strings, with the
// path of the string and the position of the variable. A malformed ${ is
// given to fn with the syntax error as t.Name's explanation in bad.
func (e *Experiment) eachRef(fn func(path string, pos Pos, t varToken, bad *SyntaxError)) {
	walkStrings(reflect.ValueOf(e).Elem(), "", func(path, s string) string {
		if !strings.Contains(s, "${") {
			return s
		}
		_, err := rewrite(s, false, func(t varToken, _ int) (string, error) {
			fn(path, e.refPos(path, t.Offset), t, nil)
			return t.Raw, nil
		})
		var se *SyntaxError
		if errors.As(err, &se) {
			fn(path, e.refPos(path, se.Offset), varToken{Offset: se.Offset}, se)
		}
		return s
	})
}

// bindStepTargets sets each step's Target to the target its operation goes
// through: the first ${targets.NAME} among the step's strings (its URL).
func (e *Experiment) bindStepTargets() {
	for i := range e.Scenarios {
		for j := range e.Scenarios[i].Steps {
			st := &e.Scenarios[i].Steps[j]
			st.Target = ""
			walkStrings(reflect.ValueOf(st).Elem(), "", func(_, s string) string {
				if st.Target == "" {
					st.Target = firstTarget(s)
				}
				return s
			})
		}
	}
}

// firstTarget returns NAME of the first ${targets.NAME} in s, "" when none.
func firstTarget(s string) string {
	var name string
	_, _ = rewrite(s, false, func(t varToken, _ int) (string, error) {
		if section, rest, ok := runtimeRef(t.Name); ok && section == "targets" && name == "" {
			name, _, _ = splitIndex(rest)
		}
		return t.Raw, nil
	})
	return name
}
