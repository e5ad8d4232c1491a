package config

import (
	"reflect"
	"strings"

	"github.com/chaosload/chaosload/faults"
)

var faultDoc = document{"a fault", "name, target, kind, ...", "a fault has name, target and kind (e.g. {name: slow, target: api, kind: latency, latency: 200ms})"}

// faultPath is where ParseFault's fault sits in the experiment its rules
// are written for.
const faultPath = "faults.0"

// ParseFault decodes one fault written as an entry of an experiment's
// faults: list, a YAML or JSON mapping read from file (a name for
// messages, such as "request body"), as strictly as Parse decodes an
// experiment: an unknown key, a wrong type or a bad value is an error at its
// line and column. It checks the fault as Parse checks a file's (its kind's
// parameters, their values, the numbers' spans); whether its target exists
// is the caller's to check. The error, when not nil, is of type Errors.
// A fault's own degradation and recovery are an experiment's, not taken
// here.
func ParseFault(file string, data []byte) (faults.Fault, error) {
	var f faults.Fault
	p := newParser(file)
	p.lines = splitLines(string(data))
	root := p.parseYAML(data, faultDoc)
	if root == nil {
		return f, p.errs.err()
	}
	p.decodeValue(root, reflect.ValueOf(&f).Elem(), "")
	errs := append(p.errs, checkFault(file, f, p.pos, p.failed)...)
	return f, errs.err()
}

// checkFault runs the rules on an experiment's fault, and the spans of its
// numbers, on f alone: pos holds where its keys were written, failed the
// keys the decoder reported already.
func checkFault(file string, f faults.Fault, pos map[string]Pos, failed map[string]bool) Errors {
	e := &Experiment{File: file, Faults: []Fault{{Fault: f}}, pos: map[string]Pos{}}
	for path, p := range pos {
		e.pos[inFault(path)] = p
	}
	c := &checker{e: e, failed: map[string]bool{}}
	for path := range failed {
		c.failed[inFault(path)] = true
	}
	c.faultProblems(&e.Faults[0].Fault, faultPath)
	c.ranges()
	for _, err := range c.errs {
		err.Msg = strings.TrimPrefix(err.Msg, faultPath+".")
	}
	return c.errs
}

// inFault is the path in the experiment of a key of the fault.
func inFault(path string) string {
	if path == "" {
		return faultPath
	}
	return faultPath + "." + path
}
