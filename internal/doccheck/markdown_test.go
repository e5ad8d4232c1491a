package doccheck

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// root is the repository's top directory, seen from this package.
const root = "../.."

// mdFile is a Markdown file of the repository, read.
type mdFile struct {
	path  string // relative to root, with slashes
	lines []string
}

// markdownFiles returns every Markdown file of the repository but test data
// and build output.
func markdownFiles(tb testing.TB) []mdFile {
	tb.Helper()
	var files []mdFile
	walkRepo(tb, func(rel string) bool { return strings.HasSuffix(rel, ".md") }, func(rel string, data []byte) {
		files = append(files, mdFile{path: rel, lines: strings.Split(string(data), "\n")})
	})
	if len(files) < 3 {
		tb.Fatalf("found %d Markdown files under %s; is the test running inside the repository?", len(files), root)
	}
	return files
}

// walkRepo calls fn with the path (relative to root, with slashes) and
// contents of every file of the repository that want accepts, leaving out
// git's directory, test data and build output.
func walkRepo(tb testing.TB, want func(rel string) bool, fn func(rel string, data []byte)) {
	tb.Helper()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "testdata", "bin", "out", "node_modules":
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil || !want(filepath.ToSlash(rel)) {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fn(filepath.ToSlash(rel), data)
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// fenceRE opens or closes a fenced code block; its group is the info string.
var fenceRE = regexp.MustCompile("^\\s*(?:```|~~~)\\s*(\\S*)")

// prose calls fn with every line outside fenced code blocks, with its
// number (from 1).
func (f mdFile) prose(fn func(n int, line string)) {
	inFence := false
	for i, line := range f.lines {
		if fenceRE.MatchString(line) {
			inFence = !inFence
			continue
		}
		if !inFence {
			fn(i+1, line)
		}
	}
}

// block is a fenced code block.
type block struct {
	info string // the fence's info string: yaml, sh, ...
	line int    // the line of its first content line, from 1
	text string
}

// blocks returns the fenced code blocks of the file, in order.
func (f mdFile) blocks() []block {
	var out []block
	var cur *block
	var body []string
	for i, line := range f.lines {
		m := fenceRE.FindStringSubmatch(line)
		switch {
		case m != nil && cur == nil:
			cur, body = &block{info: m[1], line: i + 2}, nil
		case m != nil:
			cur.text = strings.Join(body, "\n") + "\n"
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			body = append(body, line)
		}
	}
	return out
}

// headingRE matches an ATX heading; its group is the heading's text.
var headingRE = regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*\s*$`)

// anchors returns the anchors GitHub gives the file's headings.
func (f mdFile) anchors() map[string]bool {
	out := map[string]bool{}
	f.prose(func(_ int, line string) {
		m := headingRE.FindStringSubmatch(line)
		if m == nil {
			return
		}
		base := slug(m[1])
		a := base
		for n := 1; out[a]; n++ { // a repeated heading gets -1, -2, ...
			a = base + "-" + itoa(n)
		}
		out[a] = true
	})
	return out
}

// inlineLinkRE is Markdown link syntax inside a heading: [text](target).
var inlineLinkRE = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)

// slug is GitHub's anchor for a heading: its text without markup, lower
// case, without punctuation but hyphens and underscores, spaces as hyphens.
func slug(heading string) string {
	text := inlineLinkRE.ReplaceAllString(heading, "$1")
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
