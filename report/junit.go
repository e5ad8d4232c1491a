package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"

	"github.com/chaosload/chaosload/runner"
)

// JUnit writes the outcomes as one JUnit XML document, the format CI systems
// (GitHub Actions reporters, GitLab, Jenkins) read: a <testsuite> per
// experiment and in it a <testcase> per check in each phase (classname
// "<experiment>.<phase>", with the fault episode for the phases of one:
// "<experiment>.fault#1"), one for each episode's recovery bound, one per
// verify and one per baseline comparison, one per phase's offered load and
// one for the load generator. A failed expectation carries a <failure>
// whose message says what was observed and what was expected; a check or
// recovery whose result the generator's own lateness decides carries an
// <error type="inconclusive">, and so does the generator's testcase of an
// inconclusive run; a run that
// did not complete (infrastructure error, abort, interrupt) carries an
// <error> on its "run completed" testcase, so a suite is never empty and
// never silently green.
func JUnit(w io.Writer, outcomes ...*runner.Outcome) error {
	doc := junitSuites{Name: "chaosload"}
	for _, o := range outcomes {
		s := suiteOf(o)
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
		doc.Skipped += s.Skipped
		doc.seconds += o.DurationS
		doc.Suites = append(doc.Suites, s)
	}
	doc.Time = fmt.Sprintf("%.3f", doc.seconds)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// The JUnit document, as the common "Jenkins/Surefire" dialect has it.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
	seconds  float64
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  *junitText      `xml:"system-out"`
}

// junitText is a text element written as CDATA, so that the summary in
// system-out keeps its lines readable.
type junitText struct {
	Text string `xml:",cdata"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// suiteOf is one experiment's testsuite.
func suiteOf(o *runner.Outcome) junitSuite {
	s := junitSuite{Name: o.Experiment, Time: fmt.Sprintf("%.3f", o.DurationS), Properties: junitProperties(o)}
	if !o.StartedAt.IsZero() {
		s.Timestamp = o.StartedAt.UTC().Format("2006-01-02T15:04:05")
	}
	s.Cases = append(s.Cases, runCase(o))
	s.Cases = append(s.Cases, checkCases(o)...)
	for _, v := range o.Verify {
		s.Cases = append(s.Cases, verifyCase(o.Experiment, v))
	}
	s.Cases = append(s.Cases, comparisonCases(o)...)
	s.Cases = append(s.Cases, generatorCases(o)...)
	for _, c := range s.Cases {
		s.Tests++
		switch {
		case c.Error != nil:
			s.Errors++
		case c.Failure != nil:
			s.Failures++
		case c.Skipped != nil:
			s.Skipped++
		}
	}
	var text bytes.Buffer
	if err := Text(&text, o); err == nil {
		s.SystemOut = &junitText{text.String()}
	}
	return s
}

func junitProperties(o *runner.Outcome) []junitProperty {
	ps := []junitProperty{
		{"verdict", string(o.Verdict)},
		{"seed", fmt.Sprint(o.Seed)},
		{"partial", fmt.Sprint(o.Partial)},
	}
	if o.File != "" {
		ps = append(ps, junitProperty{"file", o.File})
	}
	for _, w := range o.Warnings { // a fault without effect, a closed model...
		ps = append(ps, junitProperty{"warning", w})
	}
	return append(ps, stressProperties(o)...)
}

// runCase says whether the run completed: an <error> when an
// infrastructure problem, the abort condition or an interrupt stopped it.
func runCase(o *runner.Outcome) junitCase {
	c := junitCase{Name: "run completed", Classname: o.Experiment, Time: fmt.Sprintf("%.3f", o.DurationS)}
	switch o.Verdict {
	case runner.Errored, runner.Aborted, runner.Incomplete, runner.Interrupted:
		c.Error = &junitProblem{Message: verdictWhy(o), Type: string(o.Verdict), Body: joinLines(o.Errors)}
	}
	return c
}

// checkCases are the checks and recovery bounds, in time order; the
// classname names the phase and its episode ("db-exhaustion.fault#1").
func checkCases(o *runner.Outcome) []junitCase {
	var out []junitCase
	for _, x := range expectations(o) {
		if x.Check == nil {
			out = append(out, recoveryCase(o.Experiment, *x.Recovery))
			continue
		}
		ch := x.Check
		c := junitCase{Name: ch.Name, Classname: o.Experiment + "." + classLabel(ch.Phase, ch.Episode), Time: phaseTime(o, *ch)}
		switch {
		case ch.Skipped:
			c.Skipped = &junitSkipped{Message: ch.Observed}
		case ch.Inconclusive:
			msg := fmt.Sprintf("%s phase: observed %s; expected %s: the generator's own lateness decides it", x.Phase, checkObserved(*ch), ch.Expression)
			c.Error = &junitProblem{Message: msg, Type: "inconclusive", Body: msg}
		case !ch.Passed:
			msg := fmt.Sprintf("%s phase: observed %s; expected %s", x.Phase, ch.Observed, ch.Expression)
			c.Failure = &junitProblem{Message: msg, Type: "threshold", Body: msg}
		}
		out = append(out, c)
	}
	return out
}

// phaseTime is the length of the check's phase, as a JUnit time: for a
// fault phase, how long the episode's faults were in effect.
func phaseTime(o *runner.Outcome, c runner.Check) string {
	for _, e := range o.Episodes {
		if c.Phase == "fault" && e.Number == c.Episode {
			return fmt.Sprintf("%.3f", e.InEffectS)
		}
	}
	if p := findPhase(o.Phases, c.Phase, c.Episode); p != nil {
		return fmt.Sprintf("%.3f", p.EndS-p.StartS)
	}
	return "0.000"
}

func recoveryCase(exp string, lr labelledRecovery) junitCase {
	r := lr.R
	t := r.WithinS
	if r.MeasuredS != nil {
		t = *r.MeasuredS
	}
	c := junitCase{Name: lr.Label + ": " + recoveryName(r), Classname: exp + "." + classLabel("recovery", lr.Episode), Time: fmt.Sprintf("%.3f", t)}
	if r.Inconclusive {
		msg := fmt.Sprintf("observed %s: the generator's own lateness decides whether there was %s", recoveryObserved(r), recoveryBound(lr))
		c.Error = &junitProblem{Message: msg, Type: "inconclusive", Body: joinLines([]string{msg, r.Detail})}
		return c
	}
	if !r.Passed {
		msg := fmt.Sprintf("observed %s; expected %s", recoveryObserved(r), recoveryBound(lr))
		c.Failure = &junitProblem{Message: msg, Type: "recovery", Body: joinLines([]string{msg, r.Detail})}
	}
	return c
}

func verifyCase(exp string, v runner.VerifyResult) junitCase {
	c := junitCase{Name: "verify: " + verifyName(v), Classname: exp + ".verify", Time: "0.000"}
	if !v.Passed {
		msg := fmt.Sprintf("observed %s; expected every acknowledged write to exist", verifyObserved(v))
		body := joinLines(append([]string{msg}, verifyIDs(v)...))
		c.Failure = &junitProblem{Message: msg, Type: "verify", Body: body}
	}
	return c
}

func comparisonCases(o *runner.Outcome) []junitCase {
	cmp := o.Comparison
	if cmp == nil {
		return nil
	}
	var out []junitCase
	for _, m := range cmp.Metrics {
		c := junitCase{
			Name:      fmt.Sprintf("%s within %s of %s", metricTitle(m), pct(cmp.MaxRegression), cmp.Baseline),
			Classname: o.Experiment + ".baseline", Time: "0.000",
		}
		switch {
		case m.Skipped:
			c.Skipped = &junitSkipped{Message: m.Note}
		case m.Regressed:
			msg := fmt.Sprintf("observed %s vs baseline %s (%s); expected at most %s worse",
				metricValue(m.Metric, m.Current), metricValue(m.Metric, m.Baseline), changeText(m), pct(cmp.MaxRegression))
			c.Failure = &junitProblem{Message: msg, Type: "regression", Body: msg}
		}
		out = append(out, c)
	}
	return out
}

func joinLines(ss []string) string {
	var b bytes.Buffer
	for _, s := range ss {
		if s == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(s)
	}
	return b.String()
}
