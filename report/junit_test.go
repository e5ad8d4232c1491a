package report

import (
	"bytes"
	"encoding/xml"
	"strconv"
	"strings"
	"testing"
)

// The JUnit structure CI systems read, declared independently of the
// renderer's own types so that the test reads the document as they do.
type ciSuites struct {
	XMLName  xml.Name  `xml:"testsuites"`
	Tests    int       `xml:"tests,attr"`
	Failures int       `xml:"failures,attr"`
	Errors   int       `xml:"errors,attr"`
	Suites   []ciSuite `xml:"testsuite"`
}

type ciSuite struct {
	Name       string   `xml:"name,attr"`
	Tests      int      `xml:"tests,attr"`
	Failures   int      `xml:"failures,attr"`
	Errors     int      `xml:"errors,attr"`
	Skipped    int      `xml:"skipped,attr"`
	Time       string   `xml:"time,attr"`
	Cases      []ciCase `xml:"testcase"`
	Properties []struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	} `xml:"properties>property"`
	SystemOut string `xml:"system-out"`
}

type ciCase struct {
	Name      string     `xml:"name,attr"`
	Classname string     `xml:"classname,attr"`
	Time      string     `xml:"time,attr"`
	Failure   *ciProblem `xml:"failure"`
	Error     *ciProblem `xml:"error"`
	Skipped   *ciProblem `xml:"skipped"`
}

type ciProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",chardata"`
}

func parseJUnit(t *testing.T, data []byte) ciSuites {
	t.Helper()
	var doc ciSuites
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("the JUnit output is not XML a CI system can read: %v\n%s", err, data)
	}
	return doc
}

// TestJUnitStructure parses the output back and checks what CI systems
// rely on: testsuites > testsuite (one per experiment) > testcase, counts
// that match the cases, failures carrying observed vs expected, an error
// for a run that did not complete, skipped checks marked skipped.
func TestJUnitStructure(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := JUnit(&b, passedOutcome(), failedOutcome(), erroredOutcome()); err != nil {
		t.Fatal(err)
	}
	doc := parseJUnit(t, b.Bytes())
	if len(doc.Suites) != 3 {
		t.Fatalf("%d testsuites, want one per experiment (3)", len(doc.Suites))
	}
	var tests, failures, errs int
	for _, s := range doc.Suites {
		checkCounts(t, s)
		if _, err := strconv.ParseFloat(s.Time, 64); err != nil {
			t.Errorf("suite %s: time %q is not a number", s.Name, s.Time)
		}
		tests, failures, errs = tests+s.Tests, failures+s.Failures, errs+s.Errors
	}
	if doc.Tests != tests || doc.Failures != failures || doc.Errors != errs {
		t.Errorf("testsuites counts %d/%d/%d, the suites sum to %d/%d/%d", doc.Tests, doc.Failures, doc.Errors, tests, failures, errs)
	}
	passed, failed, errored := doc.Suites[0], doc.Suites[1], doc.Suites[2]
	if passed.Failures+passed.Errors != 0 || passed.Tests != 1+6+1+1 {
		t.Errorf("passed run: %d tests, %d failures, %d errors; want 9 (run, 6 checks, recovery, verify), 0, 0", passed.Tests, passed.Failures, passed.Errors)
	}
	if !strings.Contains(passed.SystemOut, "Verdict: PASSED") {
		t.Errorf("system-out lacks the summary: %q", passed.SystemOut)
	}
	checkFailedSuite(t, failed)
	if errored.Errors != 1 || errored.Tests != 1 || errored.Cases[0].Error == nil ||
		!strings.Contains(errored.Cases[0].Error.Message, "unreachable") {
		t.Errorf("errored run: %+v; want one testcase with an <error> naming the problem", errored)
	}
}

// checkCounts recounts a suite's cases against its attributes.
func checkCounts(t *testing.T, s ciSuite) {
	t.Helper()
	var failures, errs, skipped int
	for _, c := range s.Cases {
		if c.Name == "" || c.Classname == "" {
			t.Errorf("suite %s: testcase without name or classname: %+v", s.Name, c)
		}
		if c.Failure != nil {
			failures++
		}
		if c.Error != nil {
			errs++
		}
		if c.Skipped != nil {
			skipped++
		}
	}
	if s.Tests != len(s.Cases) || s.Failures != failures || s.Errors != errs || s.Skipped != skipped {
		t.Errorf("suite %s says %d tests/%d failures/%d errors/%d skipped; has %d/%d/%d/%d",
			s.Name, s.Tests, s.Failures, s.Errors, s.Skipped, len(s.Cases), failures, errs, skipped)
	}
}

// checkFailedSuite: every failed expectation of the naive run is a testcase
// with a <failure> saying what was observed and what was expected.
func checkFailedSuite(t *testing.T, s ciSuite) {
	t.Helper()
	want := map[string]string{ // classname/name → a piece of the failure message
		"db-exhaustion.fault#1/errors{class:http_5xx}: count == 0":                                           "fault #1 phase: observed count = 913; expected count == 0",
		"db-exhaustion.recovery#1/recovery #1: back to steady state within 10.0s (hold 5.00s, window 2.00s)": "observed not recovered; expected steady state within 10.0s of episode 1's last revert (35.0s)",
		"db-exhaustion.verify/verify: order → postgres: every acknowledged write exists":                     "3 lost; expected every acknowledged write to exist",
		"db-exhaustion.baseline/fault #1: p95 latency within 10% of baseline.json":                           "observed 48.0ms vs baseline 30.0ms (60.0% worse); expected at most 10% worse",
		"db-exhaustion.baseline/episode 1: recovery time within 10% of baseline.json":                        "vs baseline 0.50s",
	}
	seen := map[string]bool{}
	for _, c := range s.Cases {
		key := c.Classname + "/" + c.Name
		if c.Failure == nil {
			continue
		}
		seen[key] = true
		if piece, ok := want[key]; ok && !strings.Contains(c.Failure.Message, piece) {
			t.Errorf("%s: failure message %q lacks %q", key, c.Failure.Message, piece)
		}
	}
	for key := range want {
		if !seen[key] {
			t.Errorf("no failed testcase %s", key)
		}
	}
	var skipped bool
	for _, c := range s.Cases {
		if c.Classname == "db-exhaustion.steady#1" && c.Skipped != nil {
			skipped = true
		}
	}
	if !skipped {
		t.Errorf("the skipped steady check is not a <skipped> testcase")
	}
}
