package config

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
)

// base is a small valid experiment; table rows edit it or append to it
// (appended sections start at line 12).
const base = `version: 1
name: t
targets:
  api: {upstream: "127.0.0.1:8080"}
scenarios:
  s:
    executor: constant-vus
    vus: 1
    duration: 10s
    steps:
      - http: {url: "http://${targets.api}/"}
`

// edit returns base with the first old replaced by new.
func edit(old, new string) string {
	if !strings.Contains(base, old) {
		panic("edit: " + old + " is not in base")
	}
	return strings.Replace(base, old, new, 1)
}

// problems parses src as "x.yaml" and returns its problems as
// "line:col: msg" (0:0 when the file has no position for it), or
// "--set PATH=VALUE: msg".
func problems(tb testing.TB, src string, opts Options) []string {
	tb.Helper()
	_, err := Parse("x.yaml", []byte(src), opts)
	if err == nil {
		return nil
	}
	var es Errors
	if !errors.As(err, &es) {
		tb.Fatalf("Parse returned %T (%v), want Errors", err, err)
	}
	out := make([]string, len(es))
	for i, e := range es {
		if e.Pos.File == "x.yaml" {
			out[i] = fmt.Sprintf("%d:%d: %s", e.Pos.Line, e.Pos.Col, e.Msg)
		} else {
			out[i] = e.Error()
		}
	}
	return out
}

// checkProblems compares got with want, whose entries are "POS substring":
// the problem at the same index must be at POS exactly and contain the rest;
// an entry "--set ..." must be a prefix of the problem.
func checkProblems(tb testing.TB, got, want []string) {
	tb.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		if strings.HasPrefix(want[i], "--set ") { // no position: a prefix of the problem
			ok = strings.HasPrefix(got[i], want[i])
			continue
		}
		pos, sub, _ := strings.Cut(want[i], " ")
		ok = strings.HasPrefix(got[i], pos+": ") && strings.Contains(got[i], sub)
	}
	if !ok {
		tb.Errorf("got problems:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

// mustParse parses src and fails the test on any problem.
func mustParse(tb testing.TB, src string, opts Options) *Experiment {
	tb.Helper()
	e, err := Parse("x.yaml", []byte(src), opts)
	if err != nil {
		tb.Fatalf("Parse: %v", err)
	}
	return e
}

// env is a LookupEnv over a map.
func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// keysDiff compares the patterns found in the schema with those a table
// holds: found ones the table lacks (missing) and table ones no longer
// found (stale), each sorted.
func keysDiff[V any](found map[string]bool, table map[string]V) (missing, stale []string) {
	for p := range found {
		if _, ok := table[p]; !ok {
			missing = append(missing, p)
		}
	}
	for p := range table {
		if !found[p] {
			stale = append(stale, p)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	return missing, stale
}
