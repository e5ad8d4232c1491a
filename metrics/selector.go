package metrics

import "github.com/chaosload/chaosload/load"

// Selector picks the series a window aggregates: a kind of result, and tags.
//
// Kind always matches exactly: the zero Selector selects every step
// operation (load.KindOp) and nothing else, so a WebSocket message never
// counts as an operation. Of the tags, an empty field matches any value and
// a set field must match exactly.
//
// Class selects results of one error class. For an error rate of one class
// (`errors{class:timeout}`: timeouts over all operations), aggregate with
// WithoutClass and read Aggregate.ByClass: the class tag narrows the
// numerator, never the denominator.
type Selector struct {
	Kind      load.Kind
	Scenario  string
	Step      string
	Protocol  string
	Target    string
	Class     string
	Direction string
}

// WithoutClass returns the selector with Class cleared.
func (s Selector) WithoutClass() Selector {
	s.Class = ""
	return s
}

// Matches reports whether a series with the fully specified tags key is
// selected.
func (s Selector) Matches(key Selector) bool {
	return s.Kind == key.Kind &&
		(s.Scenario == "" || s.Scenario == key.Scenario) &&
		(s.Step == "" || s.Step == key.Step) &&
		(s.Protocol == "" || s.Protocol == key.Protocol) &&
		(s.Target == "" || s.Target == key.Target) &&
		(s.Class == "" || s.Class == key.Class) &&
		(s.Direction == "" || s.Direction == key.Direction)
}

// keyOf returns the kind and tags of a result, the series it is recorded in.
func keyOf(res *load.Result) Selector {
	return Selector{
		Kind:      res.Kind,
		Scenario:  res.Scenario,
		Step:      res.Step,
		Protocol:  string(res.Protocol),
		Target:    res.Target,
		Class:     res.Class,
		Direction: res.Direction,
	}
}
