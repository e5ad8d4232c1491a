package doccheck

import (
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// linkRE matches an inline link or image, [text](target "title"), and a
// reference definition, [name]: target; the target is group 1 or 2.
var linkRE = regexp.MustCompile(`\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)|^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)`)

// codeSpanRE is an inline code span: links inside one are text.
var codeSpanRE = regexp.MustCompile("`+[^`]*`+")

// TestLinksStayInTheRepository: every link of every Markdown file resolves
// to a file of the repository (and, into a Markdown file, to one of its
// headings), or is an http(s) link to a public site. Nothing points at a
// file outside the repository or at a machine of one's own.
func TestLinksStayInTheRepository(t *testing.T) {
	t.Parallel()
	files := markdownFiles(t)
	anchors := map[string]map[string]bool{}
	for _, f := range files {
		anchors[f.path] = f.anchors()
	}
	checked := 0
	for _, f := range files {
		f.prose(func(n int, line string) {
			for _, m := range linkRE.FindAllStringSubmatch(codeSpanRE.ReplaceAllString(line, "``"), -1) {
				target := m[1] + m[2]
				checked++
				if msg := checkLink(f.path, target, anchors); msg != "" {
					t.Errorf("%s:%d: link %q: %s", f.path, n, target, msg)
				}
			}
		})
	}
	if checked == 0 {
		t.Fatal("no link found in any Markdown file: the link pattern is broken")
	}
}

// checkLink returns what is wrong with target, a link in the file at from,
// or "".
func checkLink(from, target string, anchors map[string]map[string]bool) string {
	u, err := url.Parse(target)
	if err != nil {
		return "not a URL: " + err.Error()
	}
	switch {
	case u.Scheme == "http" || u.Scheme == "https":
		return checkPublic(u.Hostname())
	case u.Scheme != "":
		return "only relative links into the repository and http(s) links to public sites are allowed"
	case strings.HasPrefix(u.Path, "/"):
		return "an absolute path; write it relative to " + from
	}
	file := from
	if u.Path != "" {
		file = path.Clean(path.Join(path.Dir(from), u.Path))
		if file == ".." || strings.HasPrefix(file, "../") {
			return "leaves the repository; link to a file inside it, or say the thing itself"
		}
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(file))); err != nil {
			return "no such file in the repository (" + file + ")"
		}
	}
	if u.Fragment == "" {
		return ""
	}
	heads, ok := anchors[file]
	if !ok {
		return "" // an anchor into a file that is not Markdown: not checked
	}
	if !heads[u.Fragment] {
		return "no heading of " + file + " has the anchor #" + u.Fragment
	}
	return ""
}

// checkPublic refuses hosts that are not public sites: loopback, private
// and link-local addresses, names without a dot.
func checkPublic(host string) string {
	if ip := net.ParseIP(host); ip != nil {
		if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() {
			return "points at a private address; a link must reach a public site"
		}
		return ""
	}
	if !strings.Contains(host, ".") || strings.HasSuffix(host, ".local") || strings.HasSuffix(host, ".internal") {
		return "not a public host name"
	}
	return ""
}

// TestNoCitationOutsideTheRepository: the docs, the experiments and the
// code never cite design notes a reader of the repository cannot open.
func TestNoCitationOutsideTheRepository(t *testing.T) {
	t.Parallel()
	// Spelt in pieces so that this file does not cite them itself.
	banned := []string{"DESIGN" + " §", "DESIGN" + ".md", "../" + "shared", "research" + " note"}
	exts := map[string]bool{".md": true, ".go": true, ".yaml": true, ".yml": true, ".sh": true}
	walkRepo(t, func(rel string) bool { return exts[path.Ext(rel)] }, func(rel string, data []byte) {
		for i, line := range strings.Split(string(data), "\n") {
			for _, b := range banned {
				if strings.Contains(line, b) {
					t.Errorf("%s:%d cites %q, which a reader of the repository cannot open: say the thing itself", rel, i+1, b)
				}
			}
		}
	})
}
