package doccheck

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/faults"
)

const faultsDoc = "docs/faults.md"

// kindHeadingRE is a kind's section heading: ### `latency`.
var kindHeadingRE = regexp.MustCompile("^### `([a-z0-9-]+)`\\s*$")

// faultsReference reads docs/faults.md.
func faultsReference(t *testing.T) mdFile {
	t.Helper()
	for _, f := range markdownFiles(t) {
		if f.path == faultsDoc {
			return f
		}
	}
	t.Fatalf("%s is missing", faultsDoc)
	return mdFile{}
}

// sections maps each kind heading of the reference to the text of its
// section (up to the next heading of level 3 or less).
func sections(f mdFile) map[string]string {
	out := map[string]string{}
	cur := ""
	var body []string
	flush := func() {
		if cur != "" {
			out[cur] = strings.Join(body, "\n")
		}
	}
	for _, line := range f.lines {
		if m := kindHeadingRE.FindStringSubmatch(line); m != nil {
			flush()
			cur, body = m[1], nil
			continue
		}
		if strings.HasPrefix(line, "## ") || strings.HasPrefix(line, "### ") {
			flush()
			cur = ""
		}
		body = append(body, line)
	}
	flush()
	return out
}

// TestEveryFaultKindIsDocumented: every kind package faults accepts has a
// section in docs/faults.md with a field table, an example of that kind,
// what a client sees and its effect figures; kernel loss has its example;
// and the reference documents no kind the code does not know.
func TestEveryFaultKindIsDocumented(t *testing.T) {
	t.Parallel()
	secs := sections(faultsReference(t))
	known := map[string]bool{}
	for _, k := range faults.Kinds {
		known[string(k)] = true
		sec, ok := secs[string(k)]
		if !ok {
			t.Errorf("%s has no section \"### `%s`\"", faultsDoc, k)
			continue
		}
		for _, want := range []string{"kind: " + string(k), "**A client sees**", "**Effect"} {
			if !strings.Contains(sec, want) {
				t.Errorf("%s, section %s: no %q", faultsDoc, k, want)
			}
		}
	}
	for k := range secs {
		if !known[k] {
			t.Errorf("%s documents kind %q, which package faults does not accept", faultsDoc, k)
		}
	}
	if !strings.Contains(secs[string(faults.Loss)], "mode: "+string(faults.Kernel)) {
		t.Errorf("%s, section loss: no example of mode: kernel", faultsDoc)
	}
}

// TestFaultExamplesValidate: the reference's first YAML block is a whole
// experiment ending in "faults:"; every later YAML block is a list of fault
// entries that, under it, parses and validates as chaosload validate
// parses a file.
func TestFaultExamplesValidate(t *testing.T) {
	t.Parallel()
	var skeleton string
	examples := 0
	for _, b := range faultsReference(t).blocks() {
		if b.info != "yaml" {
			continue
		}
		if skeleton == "" {
			if !strings.HasSuffix(strings.TrimSpace(b.text), "faults:") {
				t.Fatalf("%s:%d: the first YAML block must be the experiment the examples go into, ending in \"faults:\"", faultsDoc, b.line)
			}
			skeleton = b.text
			continue
		}
		examples++
		name := fmt.Sprintf("(%s:%d under the experiment of \"Trying an example\")", faultsDoc, b.line)
		if _, err := config.Parse(name, []byte(skeleton+indent(b.text, "  ")), config.Options{}); err != nil {
			t.Errorf("%s:%d: the example does not validate:\n%s\n%v", faultsDoc, b.line, b.text, err)
		}
	}
	if examples < len(faults.Kinds) {
		t.Errorf("%s has %d YAML examples for %d kinds", faultsDoc, examples, len(faults.Kinds))
	}
}

// indent prefixes every non-empty line of s.
func indent(s, prefix string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n")
}
