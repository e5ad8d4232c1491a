package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Options tune Load and Parse. The zero value applies no override and sees
// no environment variable.
type Options struct {
	// Sets are --set overrides ("stack.mode=naive", "faults.0.startTime=10s"),
	// applied in order to the file's node tree before decoding; see set.go
	// for the path syntax.
	Sets []string
	// LookupEnv resolves ${NAME} and ${NAME:-default}. Nil means no variable
	// is set: the process environment is never read implicitly (cmd passes
	// os.LookupEnv).
	LookupEnv func(string) (string, bool)
	// NoScenariosOK accepts a file without scenarios: game-day mode runs
	// the scenarios only as optional background load.
	NoScenariosOK bool
}

// Load reads the experiment file at path and parses it (see Parse).
func Load(path string, opts Options) (*Experiment, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read experiment: %w", err)
	}
	return Parse(path, data, opts)
}

// Parse decodes an experiment from data, read from file: it applies the
// --set overrides, expands ${NAME} from the environment, decodes strictly,
// fills in defaults, binds steps to their targets and validates. The error,
// when not nil, is of type Errors and holds every problem found, each with
// its file:line:col. ${targets.NAME} and ${stack.NAME} are checked but kept;
// Resolve expands them when the run starts.
func Parse(file string, data []byte, opts Options) (*Experiment, error) {
	p := newParser(file)
	p.lines = splitLines(string(data))
	root := p.parseYAML(data, experimentDoc)
	if root == nil {
		return nil, p.errs.err()
	}
	p.applySets(root, opts.Sets)
	p.expandEnv(root, "", opts.LookupEnv)
	e := &Experiment{File: file, noScenariosOK: opts.NoScenariosOK}
	p.decodeValue(root, reflect.ValueOf(e).Elem(), "")
	e.pos = p.pos
	e.setDefaults()
	e.bindStepTargets()
	errs := append(p.errs, e.check(p.failed)...)
	if len(errs) > 0 {
		return nil, errs.err(opts.Sets...)
	}
	return e, nil
}

// parser holds the state of one Parse: the problems found so far and where
// every field was written.
type parser struct {
	file string
	// lines are the file's lines, to point inside values exactly.
	lines []string
	errs  Errors
	// pos maps a field path to where it was written (Experiment.pos).
	pos map[string]Pos
	// origin holds the nodes that came from a --set override, with the
	// override's position.
	origin map[*yaml.Node]Pos
	// failed holds the paths whose value could not be expanded or decoded,
	// so validation does not report them a second time.
	failed map[string]bool
}

func newParser(file string) *parser {
	return &parser{
		file:   file,
		pos:    map[string]Pos{},
		origin: map[*yaml.Node]Pos{},
		failed: map[string]bool{},
	}
}

// document says what a parsed document holds, for the messages about one
// that holds nothing, too much or no mapping.
type document struct {
	what string // "an experiment file"
	keys string // its first keys, for "want a mapping of keys (...)"
	hint string // how it starts
}

var experimentDoc = document{"an experiment file", "version, name, targets, scenarios, ...", "an experiment starts with version: 1"}

// parseYAML parses data into a node tree and returns its top-level mapping,
// or nil after recording why there is none.
func (p *parser) parseYAML(data []byte, d document) (root *yaml.Node) {
	defer func() {
		if r := recover(); r != nil { // the YAML library must not take the caller down
			p.add(Pos{File: p.file}, fmt.Sprintf("the YAML parser failed: %v", r))
			root = nil
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.add(Pos{File: p.file}, "the file is empty; "+d.hint)
		} else {
			p.syntaxError(err)
		}
		return nil
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		p.add(p.nodePos(&next), "a second YAML document starts here; "+d.what+" holds one document")
	} else if !errors.Is(err, io.EOF) {
		p.syntaxError(err)
	}
	return p.topMapping(&doc, d)
}

// topMapping returns the document's mapping, or nil after recording why the
// document is not one.
func (p *parser) topMapping(doc *yaml.Node, d document) *yaml.Node {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		p.add(Pos{File: p.file}, "the file holds no YAML document; "+d.hint)
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		p.add(p.nodePos(root), "want a mapping of keys ("+d.keys+") at the top, got "+describeNode(root))
		return nil
	}
	return root
}

// splitLines splits s at YAML line breaks (\r\n, \r, \n, NEL, LS, PS), so
// that lines number as the YAML parser numbers them.
func splitLines(s string) []string {
	var lines []string
	start := 0
	for i := 0; i < len(s); {
		n := lineBreak(s[i:])
		if n == 0 {
			i++
			continue
		}
		lines = append(lines, s[start:i])
		i += n
		start = i
	}
	return append(lines, s[start:])
}

// lineBreak returns the length of the line break s starts with, 0 if none.
func lineBreak(s string) int {
	for _, b := range []string{"\r\n", "\r", "\n", "\u0085", "\u2028", "\u2029"} {
		if strings.HasPrefix(s, b) {
			return len(b)
		}
	}
	return 0
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError records a YAML syntax error at the line the parser names.
func (p *parser) syntaxError(err error) {
	msg := err.Error()
	pos := Pos{File: p.file}
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		pos.Line, _ = strconv.Atoi(m[1])
		pos = p.clamp(pos)
		pos.Col = 0 // the parser names no column
		msg = m[2]
	}
	p.add(pos, "invalid YAML: "+msg)
}

// add records a problem.
func (p *parser) add(pos Pos, msg string) {
	p.errs = append(p.errs, &Error{Pos: pos, Msg: msg})
}

// errorf records a problem with the value at path, written at n, and marks
// path as failed.
func (p *parser) errorf(n *yaml.Node, path, format string, a ...any) {
	p.errorAt(p.nodePos(n), path, format, a...)
}

// errorAt records a problem with the value at path, at pos, and marks path as
// failed.
func (p *parser) errorAt(pos Pos, path, format string, a ...any) {
	p.failed[path] = true
	p.add(pos, prefix(path, fmt.Sprintf(format, a...)))
}

// prefix puts the field path in front of a message ("stack.mode: ...").
func prefix(path, msg string) string {
	if path == "" {
		return msg
	}
	return path + ": " + msg
}
