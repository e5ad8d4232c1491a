package config

import (
	"reflect"
	"testing"
	"time"
)

// TestSets applies --set overrides that work.
func TestSets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		src   string
		sets  []string
		check func(e *Experiment) bool
	}{
		// a list entry by index
		{"index", chaos, []string{"faults.0.startTime=20s"},
			func(e *Experiment) bool { return e.Faults[0].StartTime == 20*time.Second }},
		// a list entry by its name
		{"name", chaos, []string{"faults.exhaust.duration=10s"},
			func(e *Experiment) bool { return e.Faults[0].Duration == 10*time.Second }},
		// a named scenario's field, with a number
		{"scenario", chaos, []string{"scenarios.s.duration=200s", "scenarios.s.rate=50"},
			func(e *Experiment) bool {
				return e.Scenarios[0].Duration == 200*time.Second && e.Scenarios[0].Rate == 50
			}},
		// a key the file does not have, in a mapping it does not have
		{"new mapping", chaos, []string{"recovery.within=20s"},
			func(e *Experiment) bool { return e.Recovery.Within == 20*time.Second && e.Recovery.Hold == DefaultHold }},
		// a whole new section, key by key
		{"new section", base, []string{"stack.name=demo", "stack.mode=naive"},
			func(e *Experiment) bool { return reflect.DeepEqual(*e.Stack, Stack{Name: "demo", Mode: "naive"}) }},
		// a threshold list replaced by a flow sequence
		{"threshold list", chaos, []string{`thresholds.latency=["p(99) < 1s", "avg < 50ms"]`},
			func(e *Experiment) bool {
				return len(e.Thresholds) == 2 && e.Thresholds[0].Cond.P == 99 && e.Thresholds[1].Cond.Agg == AggAvg
			}},
		// a single expression added under a new key
		{"threshold single", chaos, []string{"thresholds.errors=rate < 5%"},
			func(e *Experiment) bool { return len(e.Thresholds) == 2 && e.Thresholds[1].Cond.Value == 0.05 }},
		// a whole list entry replaced by a flow mapping
		{"entry", chaos, []string{"faults.0={name: d, target: api, kind: down, startTime: 10s, duration: 5s}"},
			func(e *Experiment) bool { return e.Faults[0].Kind == "down" && e.Faults[0].Target == "api" }},
		// the value is expanded like the file's
		{"env in value", base, []string{"scenarios.s.duration=${D:-42s}"},
			func(e *Experiment) bool { return e.Scenarios[0].Duration == 42*time.Second }},
		// an empty value is the empty string
		{"empty", base, []string{"description="},
			func(e *Experiment) bool { return e.Description == "" }},
		// later overrides win
		{"order", base, []string{"name=a", "name=b"},
			func(e *Experiment) bool { return e.Name == "b" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := mustParse(t, tc.src, Options{Sets: tc.sets})
			if !tc.check(e) {
				t.Errorf("--set %q did not take effect: %+v", tc.sets, e)
			}
		})
	}
}

// TestSetErrors reports problems of overrides at "--set PATH=VALUE", through
// the same decoder and validation as the file.
func TestSetErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		set  string
		want []string
	}{
		// a typo in a key, like in the file
		{"typo", base + "stack: {name: demo}\n", "stack.mod=naive",
			[]string{`--set stack.mod=naive: stack: unknown key "mod" (did you mean "mode"?); valid keys: name, mode`}},
		// a wrong type, like in the file
		{"type", chaos, "recovery.within=[1]",
			[]string{`--set recovery.within=[1]: recovery.within: want a duration such as 30s or 1m30s, got a list`}},
		// a new section misses its required key
		{"new section", base, "stack.mode=naive",
			[]string{`--set stack.mode=naive: stack.name: is required; valid: demo`}},
		// a value the validation refuses
		{"validation", chaos, "faults.0.startTime=1s",
			[]string{`--set faults.0.startTime=1s: faults.0.startTime: the fault starts at 1s, during the warm-up (5s)`}},
		// an index past the end
		{"index range", chaos, "faults.3.duration=1s",
			[]string{`--set faults.3.duration=1s: faults: has 1 entries; index 3 is out of range (0 to 0)`}},
		// a name in a list without names
		{"nameless list", base, "scenarios.s.steps.x.name=a",
			[]string{`--set scenarios.s.steps.x.name=a: scenarios.s.steps: has no entry named "x" (its entries have no name:); use an index from 0 to 0`}},
		// a name no entry has
		{"unknown name", chaos, "faults.exhast.duration=1s",
			[]string{`--set faults.exhast.duration=1s: faults: no entry is named "exhast" (did you mean "exhaust"?); names: exhaust`}},
		// a path through a single value
		{"through scalar", chaos, "name.x=1",
			[]string{`--set name.x=1: name: is the string "c", which has no "x" in it`}},
		// no "="
		{"no value", chaos, "name",
			[]string{`--set name: want --set PATH=VALUE with a dotted PATH`}},
		// an empty path segment
		{"empty segment", chaos, "faults..name=x",
			[]string{`--set faults..name=x: want --set PATH=VALUE with a dotted PATH`}},
		// a value that is not YAML
		{"bad yaml", chaos, "name=[a",
			[]string{`--set name=[a: the value is not valid YAML`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			checkProblems(t, problems(t, tc.src, Options{Sets: []string{tc.set}}), tc.want)
		})
	}
}

// TestSetErrorsAfterFile lists the file's problems first, then the
// overrides' in the order given.
func TestSetErrorsAfterFile(t *testing.T) {
	t.Parallel()
	got := problems(t, edit("vus: 1", "vus: x"), Options{Sets: []string{"name=[1]", "version.x=1", "seed=y"}})
	checkProblems(t, got, []string{
		`8:10 scenarios.s.vus: want a whole number`,
		`--set name=[1]: name: want a string, got a list`,                     // found while decoding
		`--set version.x=1: version: is the number 1, which has no "x" in it`, // found while applying
		`--set seed=y: seed: want a whole number, got the string "y"`,
	})
}
