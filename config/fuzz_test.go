package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseExperiment feeds Parse arbitrary files and one --set override:
// it must never panic, and every problem must carry a position inside the
// file (or name the override).
func FuzzParseExperiment(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add([]byte(s), "")
		f.Add([]byte(s), "faults.0.startTime=20s")
		for _, cut := range []int{len(s) / 3, len(s) / 2, len(s) * 2 / 3} { // truncated variants
			f.Add([]byte(s[:cut]), "")
		}
	}
	f.Add([]byte(base), "stack.mod=naive")
	f.Add([]byte(base), "scenarios.s.steps.0.http.json={a: [1, {b: .nan}]}")
	f.Fuzz(func(t *testing.T, data []byte, set string) {
		opts := Options{LookupEnv: env(map[string]string{"A": "1", "D": "10s"})}
		if set != "" {
			opts.Sets = []string{set}
		}
		e, err := Parse("f.yaml", data, opts)
		if err == nil {
			if e == nil {
				t.Fatal("Parse returned neither an experiment nor an error")
			}
			inSpans(t, e)
			_ = e.Resolve(func(string) (string, bool) { return "127.0.0.1:1", true })
			return
		}
		var es Errors
		if !errors.As(err, &es) || len(es) == 0 {
			t.Fatalf("Parse error %T %v, want non-empty Errors", err, err)
		}
		checkPositions(t, data, es)
	})
}

// inSpans checks that every number of an experiment Parse accepted lies
// in its span (zero is a default).
func inSpans(t *testing.T, e *Experiment) {
	walkNumbers(reflect.ValueOf(e).Elem(), "", "", func(path, pattern string, n float64) {
		s, ok := numberSpans[pattern]
		if n != 0 && (!ok || !(n >= s.lo && n <= s.hi)) {
			t.Errorf("%s = %v accepted; valid: %v", path, n, s)
		}
	})
}

// checkPositions checks that each problem points inside data (line and
// column within the file) or at the --set override, and says something.
func checkPositions(t *testing.T, data []byte, es Errors) {
	lines := splitLines(string(data))
	for _, e := range es {
		p := e.Pos
		switch {
		case e.Msg == "":
			t.Errorf("%v: empty message", p)
		case strings.HasPrefix(p.File, "--set "):
		case p.File != "f.yaml":
			t.Errorf("%v: %s: position names another file", p, e.Msg)
		case p.Line < 0 || p.Line > len(lines) || p.Col < 0:
			t.Errorf("%v: %s: line or column outside the file (%d lines)", p, e.Msg, len(lines))
		case p.Line > 0 && p.Col > utf8.RuneCountInString(lines[p.Line-1])+1:
			t.Errorf("%v: %s: column past the end of line %q", p, e.Msg, lines[p.Line-1])
		}
	}
}

// fuzzSeeds are the bundled experiments, the test data and the tables'
// bases, with broken variants.
func fuzzSeeds(tb testing.TB) []string {
	seeds := []string{base, chaos, resolving,
		base + "thresholds:\n  latency: [\"p(95) < 100xs\"]\n",
		edit("duration: 10s", "duration: ${D}") + "name: &a x\nx: *a\n",
		"version: 1\nname: [\n", "- a\n", "", "{", "version: \"1\"\n---\nx: 1\n",
		"a: !!binary aGk=\nb: !custom x\nc: 0x1F\nd: 1_000\n",
	}
	for _, glob := range []string{"testdata/*.yaml", "testdata/invalid/*.yaml", "../experiments/*.yaml"} {
		files, _ := filepath.Glob(glob)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				tb.Fatal(err)
			}
			seeds = append(seeds, string(b))
		}
	}
	return seeds
}
