// Package headless runs headless Chromium for tests: it finds the browser
// (skipping the test, saying so, when it is not installed), runs it offline
// in a throwaway profile and its own process group, and reads what
// report.ReadinessHTML puts in the DOM. It is imported by tests only
// (report's and cmd/chaosload's); it runs nothing of chaosload.
package headless

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"
)

// Flags keep headless Chromium off the network and out of the machine's
// profile (without the background-networking flags it floods a closed
// network with connection attempts); no host name resolves, so a page
// that needs the network shows it.
var Flags = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
	"--host-resolver-rules=MAP * ~NOTFOUND",
}

// Chromium returns Chromium's path, skipping the test when it is missing
// (scripts/deps.sh installs Debian's chromium for `make test` and CI).
func Chromium(tb testing.TB) string {
	tb.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	tb.Skip("chromium not installed (make deps installs it)")
	return ""
}

// Run runs headless Chromium bin with Flags and args, its profile in a new
// directory under dir, and returns what it printed on stdout. Chromium and
// its helpers run in their own process group, killed when it is done (or
// after 90 s, which only a hang takes).
func Run(tb testing.TB, bin, dir string, args ...string) []byte {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	all := append(append([]string{}, Flags...), "--user-data-dir="+filepath.Join(dir, "profile"))
	cmd := exec.CommandContext(ctx, bin, append(all, args...)...)
	var out, errs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start chromium: %v", err)
	}
	pgid := cmd.Process.Pid
	defer func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) }() // helpers left behind, if any
	if err := cmd.Wait(); err != nil {
		tb.Fatalf("chromium: %v\n%s%s", err, out.Bytes(), errs.Bytes())
	}
	return out.Bytes()
}

// DumpDOM opens the local file in headless Chromium and returns the DOM it
// built (--dump-dom), its profile in a directory of the test's.
func DumpDOM(tb testing.TB, file string) []byte {
	tb.Helper()
	abs, err := filepath.Abs(file)
	if err != nil {
		tb.Fatal(err)
	}
	return Run(tb, Chromium(tb), tb.TempDir(), "--dump-dom", "file://"+abs)
}

// Readiness is what a readiness page's DOM shows: the verdict and each
// row of the criteria table, in order.
type Readiness struct {
	// Verdict is the verdict's text (ready, ready with conditions, not
	// ready) and Class its element's class (ready, conditions, not-ready).
	Verdict, Class string
	Rows           []Row
}

// Row is one criterion of the table: its id and its status class (met,
// not-met, not-measured).
type Row struct {
	ID, Status string
}

var (
	domVerdict  = regexp.MustCompile(`<span class="verdict ([a-z-]+)" id="verdict">([^<]*)</span>`)
	domCriteria = regexp.MustCompile(`(?s)<table id="criteria">.*?</table>`)
	domRow      = regexp.MustCompile(`(?s)<tr class="(met|not-met|not-measured)"><td>[^<]*</td><td>[^<]*\(([a-z0-9-]+)\)`)
)

// ReadReadiness reads the verdict and the criteria table from a readiness
// page's DOM; ok is false when the page has no verdict.
func ReadReadiness(dom []byte) (r Readiness, ok bool) {
	v := domVerdict.FindSubmatch(dom)
	if v == nil {
		return r, false
	}
	r.Class, r.Verdict = string(v[1]), string(v[2])
	for _, m := range domRow.FindAllSubmatch(domCriteria.Find(dom), -1) {
		r.Rows = append(r.Rows, Row{ID: string(m[2]), Status: string(m[1])})
	}
	return r, true
}
