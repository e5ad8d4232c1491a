// Package report renders a run's Outcome for people and machines: the
// terminal summary (Text), the versioned JSON form (JSON, ReadJSON), JUnit
// XML for CI systems (JUnit), a Markdown summary for pull requests and
// GitHub's step summary (Markdown), and a self-contained HTML report with
// charts drawn as inline SVG (HTML). It also compares a run with a saved
// baseline run (Compare), which is arithmetic on two Outcomes.
//
// report runs nothing and measures nothing: everything it shows is in the
// Outcome, so a saved result re-renders identically. Choosing renderers and
// file names is the command's business (cmd/chaosload).
package report
