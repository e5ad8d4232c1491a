package readiness

import (
	_ "embed"
	"fmt"
	"os"
)

// Criteria is a plan's criteria, in the order they are reported.
type Criteria struct {
	// Name is the plan's name, shown as the report's subtitle.
	Name string
	// File is where the criteria came from ("(default)" for the bundled
	// ones).
	File     string
	Criteria []Criterion
}

// Criterion is one expectation of the plan: a metric, measured on the runs
// of the experiments tagged Tag, that must meet Expect.
type Criterion struct {
	// ID names the criterion in the report and in findings
	// ("p95-latency").
	ID string
	// Text is the criterion as the plan states it ("p95 < 100 ms").
	Text string
	// Tag selects the runs that measure it: those whose experiment has
	// this tag; "" selects every run.
	Tag string
	// Metric is what is measured (metric.go lists them).
	Metric string
	// Expect is the bound the metric must meet.
	Expect Bound
	// Advisory criteria do not make the verdict "not ready" when they
	// fail: they make it "ready with conditions".
	Advisory bool
	// Pos is where the criterion was written.
	Pos Pos
}

// Pos is a place in a criteria file.
type Pos struct {
	File      string
	Line, Col int
}

// String renders "file:line:col".
func (p Pos) String() string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col) }

// DefaultFile is the name the bundled criteria report as their file.
const DefaultFile = "(default criteria)"

//go:embed default.yaml
var defaultCriteria []byte

// DefaultYAML returns the bundled criteria file, a starting point for a
// user's own.
func DefaultYAML() []byte { return append([]byte(nil), defaultCriteria...) }

// Default returns the bundled criteria: the load-and-stress plan chaosload
// was built for, mapped to the bundled experiments' tags.
func Default() *Criteria {
	c, err := Parse(DefaultFile, defaultCriteria)
	if err != nil {
		panic("readiness: the bundled criteria are invalid: " + err.Error()) // a test parses them
	}
	return c
}

// Load reads a criteria file (see Parse).
func Load(path string) (*Criteria, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read criteria: %w", err)
	}
	return Parse(path, data)
}
