package report

import (
	"bytes"
	"html"
	"io"
	"strings"
	"testing"

	"github.com/chaosload/chaosload/runner"
)

// TestIncompleteStatedByEveryFormat: a distributed run that lost a worker
// after the start says so in every report, with the worker, when, and how
// much of the schedule was lost: the outcome exit code 5 maps.
func TestIncompleteStatedByEveryFormat(t *testing.T) {
	t.Parallel()
	o := passedOutcome()
	o.Verdict, o.Passed, o.Partial, o.Workers = runner.Incomplete, false, true, 3
	o.Lost = &runner.LostWorker{Worker: 2, Attempt: 1, AtS: 4.2, LostArrivals: 420, Arrivals: 3000}
	want := "worker 2 (attempt 1) lost 4.2s into the load: 420 of the run's 3000 arrivals (14.0%) were never offered"
	formats := map[string]func(io.Writer, *runner.Outcome) error{
		"text": Text, "markdown": Markdown, "html": HTML, "json": JSON,
		"junit": func(w io.Writer, o *runner.Outcome) error { return JUnit(w, o) },
	}
	for name, render := range formats {
		var buf bytes.Buffer
		if err := render(&buf, o); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out := html.UnescapeString(buf.String()) // html and junit escape the apostrophe
		if !strings.Contains(strings.ToLower(out), "incomplete") {
			t.Errorf("%s does not state the verdict incomplete", name)
		}
		if name != "json" && !strings.Contains(out, want) {
			t.Errorf("%s does not say which worker was lost and what it cost: want %q", name, want)
		}
	}
	var buf bytes.Buffer
	if err := JSON(&buf, o); err != nil {
		t.Fatal(err)
	}
	back, err := ReadJSON(&buf)
	if err != nil || back.Lost == nil || *back.Lost != *o.Lost {
		t.Fatalf("JSON round trip of the lost worker: %+v, %v", back.Lost, err)
	}
}
