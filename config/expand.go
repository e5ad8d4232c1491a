package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Variables in experiment strings:
//
//	${NAME}             the environment variable NAME; unset is an error
//	${NAME:-default}    NAME, or default when NAME is unset or empty
//	${targets.NAME}     target NAME's proxy address, resolved when the run starts
//	${stack.NAME}       an address of the demo stack (api, postgres, redis), likewise
//	${vu.NAME} ${vu.id} ${iteration} ${data.COLUMN} ${random.uuid} ${random.int(A,B)}
//	                    run-time variables of steps, filled in per operation
//	                    (load.Template); kept as written through Parse and Resolve
//	$${                 a literal "${"
//
// Environment variables are expanded by Parse, in every scalar value of the
// file and of --set overrides, before decoding (so `duration: ${D:-30s}`
// works). ${targets.NAME} and ${stack.NAME} are checked by Validate and kept
// until Resolve. Run-time variables are checked by Validate (a ${vu.NAME}
// must be extracted by a step of its scenario, a ${data.COLUMN} must be a
// column of its scenario's data, and both only in steps) and never
// expanded here: an escaped "$${" in front of one stays "$${" through
// Resolve, so the step's template reads it as a literal "${".
//
// Parse also makes the file paths of `data:` and `bodyFile:` relative to
// the experiment file's directory (an absolute path stays as it is).

// varToken is one ${...} in a string.
type varToken struct {
	// Offset is the byte offset of "${" in the string.
	Offset     int
	Name       string
	Default    string
	HasDefault bool
	// Raw is the whole "${...}" as written.
	Raw string
}

// rewrite replaces every ${...} of s by what fn returns for it; fn also gets
// the offset in the output where the replacement goes. "$${" becomes "${"
// when unescape is set and stays "$${" otherwise, except in front of a
// run-time variable, where it always stays. Run-time variables
// (isRuntimeVar) are left as written, never given to fn. Errors are
// *SyntaxError with the offset of the offending "${".
func rewrite(s string, unescape bool, fn func(t varToken, outOff int) (string, error)) (string, error) {
	return rewriteVars(s, unescape, fn, nil)
}

// rewriteVars is rewrite that also tells onRuntime, when not nil, where
// each run-time variable lands in the output.
func rewriteVars(s string, unescape bool, fn func(t varToken, outOff int) (string, error), onRuntime func(t varToken, outOff int)) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$${"):
			if unescape && !escapesRuntimeVar(s, i) {
				b.WriteString("${")
			} else {
				b.WriteString("$${")
			}
			i += 3
		case strings.HasPrefix(s[i:], "${"):
			t, err := scanVar(s, i)
			if err != nil {
				return "", err
			}
			if isRuntimeVar(t.Name) {
				if onRuntime != nil {
					onRuntime(t, b.Len())
				}
				b.WriteString(t.Raw)
				i += len(t.Raw)
				continue
			}
			r, err := fn(t, b.Len())
			if err != nil {
				var se *SyntaxError
				if !errors.As(err, &se) {
					se = &SyntaxError{Offset: i, Msg: err.Error()}
				}
				return "", se
			}
			b.WriteString(r)
			i += len(t.Raw)
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String(), nil
}

// scanVar reads the ${...} starting at s[i].
func scanVar(s string, i int) (varToken, error) {
	end := strings.IndexByte(s[i+2:], '}')
	if end < 0 {
		return varToken{}, &SyntaxError{Offset: i, Msg: `unterminated "${": close it with "}", or write "$${" for a literal "${"`}
	}
	t := varToken{Offset: i, Raw: s[i : i+3+end]}
	t.Name, t.Default, t.HasDefault = strings.Cut(s[i+2:i+2+end], ":-")
	if strings.TrimSpace(t.Name) == "" {
		return varToken{}, &SyntaxError{Offset: i, Msg: `empty "${}": write ${NAME}, or "$${" for a literal "${"`}
	}
	return t, nil
}

// Expand replaces every ${NAME} and ${NAME:-default} of s with what lookup
// returns for NAME (for ${targets.api}, NAME is "targets.api"), and "$${"
// with "${". A variable lookup does not know, or knows as empty, takes its
// default; one without a default is an error. Errors are *SyntaxError with
// the byte offset of the variable.
func Expand(s string, lookup func(string) (string, bool)) (string, error) {
	return rewrite(s, true, func(t varToken, _ int) (string, error) {
		if lookup != nil {
			if v, ok := lookup(t.Name); ok && (v != "" || !t.HasDefault) {
				return v, nil
			}
		}
		if t.HasDefault {
			return t.Default, nil
		}
		return "", fmt.Errorf("%s is not set", t.Raw)
	})
}

// isRuntimeVar reports whether a variable name is one a step's template
// fills in at run time: iteration, vu.*, data.*, random.* (load.Template).
func isRuntimeVar(name string) bool {
	name = strings.TrimSpace(name)
	section, _, _ := strings.Cut(name, ".")
	return name == "iteration" || strings.Contains(name, ".") &&
		(section == "vu" || section == "data" || section == "random")
}

// escapesRuntimeVar reports whether the "$${" at s[i] escapes what would
// otherwise be a run-time variable.
func escapesRuntimeVar(s string, i int) bool {
	t, err := scanVar(s, i+1)
	return err == nil && isRuntimeVar(t.Name)
}

// runtimeRef splits a ${targets.NAME} or ${stack.NAME} variable name into
// its section and name; ok is false for any other name.
func runtimeRef(name string) (section, rest string, ok bool) {
	section, rest, ok = strings.Cut(name, ".")
	return section, rest, ok && (section == "targets" || section == "stack")
}

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// refKey is the key under which Experiment.pos holds the position of the
// ${...} at byte offset off of the string at path.
func refKey(path string, off int) string { return path + "${" + strconv.Itoa(off) }

// refPos is where the ${...} at offset off of the string at path was
// written, or where the string was.
func (e *Experiment) refPos(path string, off int) Pos {
	if p, ok := e.pos[refKey(path, off)]; ok {
		return p
	}
	return e.posNear(path)
}

// expandEnv expands environment variables in every scalar value under n.
func (p *parser) expandEnv(n *yaml.Node, path string, lookup func(string) (string, bool)) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p.expandEnv(n.Content[i+1], join(path, n.Content[i].Value), lookup)
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			p.expandEnv(item, join(path, strconv.Itoa(i)), lookup)
		}
	case yaml.ScalarNode:
		p.expandScalar(n, path, lookup)
	}
}

// expandScalar expands the environment variables of one scalar and records
// where its ${targets.*} and ${stack.*} are. A plain scalar whose text
// changed has its YAML type resolved again (`rate: ${RATE}` is a number).
func (p *parser) expandScalar(n *yaml.Node, path string, lookup func(string) (string, bool)) {
	defer p.relativePath(n, path)
	if !strings.Contains(n.Value, "${") {
		return
	}
	out, err := rewriteVars(n.Value, false, func(t varToken, outOff int) (string, error) {
		return p.envVar(n, path, t, outOff, lookup)
	}, func(t varToken, outOff int) {
		p.pos[refKey(path, outOff)] = p.innerPos(n, t.Offset)
	})
	if err != nil {
		var se *SyntaxError
		errors.As(err, &se)
		p.errorAt(p.innerPos(n, se.Offset), path, "%s", se.Msg)
		return
	}
	if out != n.Value && n.Style == 0 {
		n.Tag = ""
	}
	n.Value = out
}

// envVar is the replacement of one ${...} at parse time.
func (p *parser) envVar(n *yaml.Node, path string, t varToken, outOff int, lookup func(string) (string, bool)) (string, error) {
	if _, _, ok := runtimeRef(t.Name); ok {
		if t.HasDefault {
			return "", fmt.Errorf("%s: a default does not apply to an address; write ${%s}", t.Raw, t.Name)
		}
		p.pos[refKey(path, outOff)] = p.innerPos(n, t.Offset)
		return t.Raw, nil
	}
	if !envNameRE.MatchString(t.Name) {
		return "", fmt.Errorf("%s is not a variable; write ${NAME} or ${NAME:-default} (environment), "+
			"${targets.NAME} or ${stack.NAME} (addresses), ${vu.NAME}, ${iteration}, ${data.COLUMN} or "+
			"${random.uuid} (run time, in steps), or $${ for a literal ${", t.Raw)
	}
	if lookup != nil {
		if v, ok := lookup(t.Name); ok && (v != "" || !t.HasDefault) {
			return strings.ReplaceAll(v, "${", "$${"), nil // the value is literal text
		}
	}
	if t.HasDefault {
		return t.Default, nil
	}
	return "", fmt.Errorf("environment variable %s is not set; set it, or give a default: ${%s:-VALUE}", t.Name, t.Name)
}

// fileFields are the keys whose values are file paths, read relative to
// the experiment file.
var fileFields = []string{"data", "bodyFile"}

// relativePath makes the file path at path relative to the experiment
// file's directory, when it is relative: `data: users.csv` next to the
// experiment is found wherever chaosload runs from. --set values are read
// the same way.
func (p *parser) relativePath(n *yaml.Node, path string) {
	key := path[strings.LastIndexByte(path, '.')+1:]
	if !slices.Contains(fileFields, key) || !strings.HasPrefix(path, "scenarios.") || n.Value == "" ||
		filepath.IsAbs(n.Value) || strings.Contains(n.Value, "${") {
		return
	}
	n.Value = filepath.Join(filepath.Dir(p.file), n.Value)
}
