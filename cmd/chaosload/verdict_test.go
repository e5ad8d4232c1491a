package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/runner"
)

// One outcome everywhere: each kind of run, made for real (in virtual time
// where the load runs: testing/synctest, a driver of the test's own and, for
// the generator's rule, a stalled scheduler), written in every format, and
// each format states the outcome the exit code maps.

// verdictExperiment is runner's stalled-generator file: 100 arrivals/s for
// 5 s (1 s of warm-up) against the test's driver; each case appends its
// thresholds (and abort).
const verdictExperiment = "../../runner/testdata/stalled-generator.yaml"

// testDriver answers in 1 ms (virtual), a 500 for the iterations fail picks.
type testDriver struct{ fail func(int64) bool }

func (d testDriver) Do(_ context.Context, vu *load.VU, _ *load.Step, res *load.Result) {
	res.Start = vu.Clock.Now()
	time.Sleep(time.Millisecond)
	res.End = vu.Clock.Now()
	if d.fail != nil && d.fail(vu.Iteration) {
		res.Class, res.Status = load.ClassHTTP5xx, 500
	}
}

// stallEvery20 stalls the generator 50 ms before every 20th arrival: p95
// latency 41 ms with its own lateness, 1 ms without.
func stallEvery20(_ string, i int64) time.Duration {
	if i%20 == 0 {
		return 50 * time.Millisecond
	}
	return 0
}

func every7(i int64) bool { return i%7 == 3 }
func always(int64) bool   { return true }

// verdictCase is one kind of run.
type verdictCase struct {
	name    string
	yaml    string // appended to verdictExperiment
	fail    func(int64) bool
	stall   bool          // stall the generator (stallEvery20)
	timeout time.Duration // interrupt the run after this long (virtual)
	code    int
	verdict runner.Verdict
}

var verdictCases = []verdictCase{
	// the stall cannot flip a 100 ms check: the verdict stands
	{"passed", "thresholds:\n  latency: [\"p(95) < 100ms\"]\n", nil, true, 0, exitOK, runner.Passed},
	// 500s fail the run whatever the generator did
	{"failed", "thresholds:\n  latency: [\"p(95) < 10ms\"]\n  \"errors{class:http_5xx}\": [\"count == 0\"]\n", every7, true, 0, exitFailed, runner.Failed},
	// the stall flips a 10 ms check: nothing can be concluded
	{"inconclusive", "thresholds:\n  latency: [\"p(95) < 10ms\"]\n", nil, true, 0, exitInconclusive, runner.Inconclusive},
	// every request fails: the file's abort condition stops the run
	{"aborted", "thresholds:\n  errors: [\"rate < 1%\"]\nabort:\n  errors: [\"rate > 50% for 1s\"]\n", always, false, 0, exitAborted, runner.Aborted},
	// the user interrupts the run after 2 s
	{"interrupted", "thresholds:\n  errors: [\"rate < 1%\"]\n", nil, false, 2 * time.Second, exitInterrupted, runner.Interrupted},
}

// runCase runs one case through the command in a synctest bubble, writing
// every format into dir, and returns the exit code and stdout.
func runCase(t *testing.T, vc verdictCase, dir string) (int, string) {
	t.Helper()
	file := writeExperiment(t, dir, vc.name, vc.yaml)
	var code int
	var stdout, stderr bytes.Buffer
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		if vc.timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, vc.timeout)
			defer cancel()
		}
		a := newApp(&stdout, &stderr)
		a.runOptions = func(o *runner.Options) {
			o.Load = func(c *load.Config) {
				c.Drivers = map[load.Protocol]load.Driver{load.HTTP: testDriver{vc.fail}}
				if vc.stall {
					c.Stall = stallEvery20
				}
			}
		}
		code = a.execute(ctx, append([]string{"run", file, "--quiet"}, formatFlags(dir)...))
	})
	if stderr.Len() > 0 {
		t.Logf("stderr:\n%s", stderr.String())
	}
	return code, stdout.String()
}

// formatFlags asks for every format, into dir.
func formatFlags(dir string) []string {
	return []string{"--json", filepath.Join(dir, "result.json"), "--junit", filepath.Join(dir, "junit.xml"),
		"--markdown", filepath.Join(dir, "result.md"), "--html", filepath.Join(dir, "result.html")}
}

// TestEveryFormatStatesTheExitCode: for one run of each kind (passed,
// failed, inconclusive, aborted, interrupted, error), the exit code is the
// kind's, and the text summary's last line, the JSON verdict, the JUnit
// verdict property and its failures and errors, the Markdown heading and
// the HTML badge all state that same outcome.
func TestEveryFormatStatesTheExitCode(t *testing.T) {
	for _, vc := range verdictCases {
		t.Run(vc.name, func(t *testing.T) {
			dir := t.TempDir()
			code, stdout := runCase(t, vc, dir)
			expectOutcome(t, dir, code, stdout, vc.code, vc.verdict)
		})
	}
	// an infrastructure error: the upstream is unreachable at preflight
	t.Run("error", func(t *testing.T) {
		dir := t.TempDir()
		file := writeExperiment(t, dir, "error",
			"targets:\n  api: {upstream: \""+deadLoopback(t)+"\", protocol: http}\nthresholds:\n  errors: [\"rate < 1%\"]\n")
		code, stdout, _ := invoke(t, context.Background(), append([]string{"run", file, "--quiet"}, formatFlags(dir)...)...)
		expectOutcome(t, dir, code, stdout, exitInfra, runner.Errored)
	})
}

// writeExperiment writes verdictExperiment named name, with more appended,
// into dir.
func writeExperiment(t *testing.T, dir, name, more string) string {
	t.Helper()
	data, err := os.ReadFile(verdictExperiment)
	if err != nil {
		t.Fatal(err)
	}
	yaml := strings.Replace(string(data), "name: stalled-generator", "name: "+name, 1) + more
	file := filepath.Join(dir, "exp.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// deadLoopback returns a loopback address nothing listens on.
func deadLoopback(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// expectOutcome checks the exit code and every format written into dir
// against the outcome want.
func expectOutcome(t *testing.T, dir string, code int, stdout string, wantCode int, want runner.Verdict) {
	t.Helper()
	if code != wantCode || verdictCode(want) != wantCode {
		t.Errorf("exit %d, want %d (verdictCode %d)\n%s", code, wantCode, verdictCode(want), stdout)
	}
	upper := strings.ToUpper(string(want))
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "Verdict: "+upper+" — ") {
		t.Errorf("text summary ends %q, want the verdict %s", last, upper)
	}
	var out runner.Outcome
	if err := json.Unmarshal(readFile(t, dir, "result.json"), &out); err != nil {
		t.Fatal(err)
	}
	if out.Verdict != want || out.Passed != (want == runner.Passed) || verdictCode(out.Verdict) != code {
		t.Errorf("JSON verdict %s (passed %v), want %s", out.Verdict, out.Passed, want)
	}
	expectJUnit(t, readFile(t, dir, "junit.xml"), want)
	md := string(readFile(t, dir, "result.md"))
	if first, _, _ := strings.Cut(md, "\n"); !strings.HasSuffix(first, " — "+upper) {
		t.Errorf("Markdown heading %q, want the verdict %s", first, upper)
	}
	badge := regexp.MustCompile(`<span class="verdict ([a-z]+)">([A-Z]+)</span>`).FindAllStringSubmatch(string(readFile(t, dir, "result.html")), -1)
	if len(badge) != 1 || badge[0][1] != string(want) || badge[0][2] != upper {
		t.Errorf("HTML badges %q, want one %s", badge, upper)
	}
	if t.Failed() {
		t.Logf("summary:\n%s", stdout)
	}
}

// expectJUnit checks the JUnit document states want: its verdict property,
// and failures and errors as the verdict implies (a failed run has a
// failure; an inconclusive one errors and no failure; a run that did not
// complete errors on "run completed"; a passed one has neither).
func expectJUnit(t *testing.T, data []byte, want runner.Verdict) {
	t.Helper()
	var doc struct {
		Failures int `xml:"failures,attr"`
		Errors   int `xml:"errors,attr"`
		Suites   []struct {
			Properties []struct {
				Name  string `xml:"name,attr"`
				Value string `xml:"value,attr"`
			} `xml:"properties>property"`
			Cases []struct {
				Name  string    `xml:"name,attr"`
				Error *struct{} `xml:"error"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Suites) != 1 {
		t.Fatalf("%d testsuites, want 1", len(doc.Suites))
	}
	verdict := ""
	for _, p := range doc.Suites[0].Properties {
		if p.Name == "verdict" {
			verdict = p.Value
		}
	}
	runErrored := doc.Suites[0].Cases[0].Name == "run completed" && doc.Suites[0].Cases[0].Error != nil
	var ok bool
	switch want {
	case runner.Passed:
		ok = doc.Failures == 0 && doc.Errors == 0
	case runner.Failed:
		ok = doc.Failures > 0 && !runErrored
	case runner.Inconclusive:
		ok = doc.Failures == 0 && doc.Errors > 0 && !runErrored
	default:
		ok = runErrored
	}
	if verdict != string(want) || !ok {
		t.Errorf("JUnit verdict %q, %d failures, %d errors, run completed errored %v; want %s", verdict, doc.Failures, doc.Errors, runErrored, want)
	}
}

func readFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestInconclusiveNamesTheCheck: the inconclusive run's reports name the
// check the generator's lateness flipped, and that lateness.
func TestInconclusiveNamesTheCheck(t *testing.T) {
	dir := t.TempDir()
	code, stdout := runCase(t, verdictCases[2], dir)
	name := "baseline latency: p(95) < 10ms fails with the generator's own lateness (p95 = 41ms) and holds without it (p95 = 1ms): its lateness added 40ms"
	if code != exitInconclusive || !strings.Contains(stdout, name) {
		t.Fatalf("exit %d, summary without %q:\n%s", code, name, stdout)
	}
	for _, f := range []string{"result.json", "junit.xml", "result.html"} {
		if !strings.Contains(string(readFile(t, dir, f)), "its lateness added 40ms") {
			t.Errorf("%s does not name the lateness", f)
		}
	}
	if !strings.Contains(string(readFile(t, dir, "result.md")), "its lateness added 40ms") {
		t.Errorf("the Markdown report does not name the lateness")
	}
}
