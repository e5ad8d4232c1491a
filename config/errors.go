package config

import (
	"sort"
	"strings"
)

// Error is one problem in an experiment file, at the place it was written.
// A problem in a --set override has a Pos whose File is "--set PATH=VALUE"
// and whose Line is 0.
type Error struct {
	Pos Pos
	Msg string
}

// Error renders "file:line:col: msg".
func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Errors is every problem found in an experiment: those in the file sorted by
// line and column, then those of --set overrides in the order given.
type Errors []*Error

// Error renders one problem per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// sorted returns es ordered by position with exact duplicates removed:
// problems in the file by line and column, then those of --set overrides
// in the order of sets.
func (es Errors) sorted(sets []string) Errors {
	rank := func(p Pos) int {
		for i, s := range sets {
			if p.Line <= 0 && p.File == "--set "+s {
				return i + 1
			}
		}
		return 0
	}
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i].Pos, es[j].Pos
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra < rb
		}
		return posLess(a, b)
	})
	out := es[:0]
	for i, e := range es {
		if i > 0 && e.Pos == es[i-1].Pos && e.Msg == es[i-1].Msg {
			continue
		}
		out = append(out, e)
	}
	return out
}

// posLess orders positions in a file before positions without a line,
// which keep their relative order.
func posLess(a, b Pos) bool {
	switch {
	case a.Line <= 0 || b.Line <= 0:
		return a.Line > 0 && b.Line <= 0
	case a.File != b.File:
		return a.File < b.File
	case a.Line != b.Line:
		return a.Line < b.Line
	}
	return a.Col < b.Col
}

// err returns es, sorted, as an error; nil when there is no problem.
func (es Errors) err(sets ...string) error {
	if len(es) == 0 {
		return nil
	}
	return es.sorted(sets)
}

// posNear returns where path was written, or where its closest written
// ancestor was ("faults.0.duration" falls back to "faults.0", then "faults",
// then the top of the file).
func (e *Experiment) posNear(path string) Pos {
	for {
		if p, ok := e.pos[path]; ok {
			return p
		}
		if path == "" {
			return Pos{File: e.File}
		}
		i := strings.LastIndexByte(path, '.')
		if i < 0 {
			path = ""
		} else {
			path = path[:i]
		}
	}
}

// written reports whether the key at path appeared in the file or a --set.
func (e *Experiment) written(path string) bool {
	_, ok := e.pos[path]
	return ok
}

// join appends a key to a field path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
