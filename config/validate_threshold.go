package config

import (
	"slices"
	"strings"

	"github.com/chaosload/chaosload/load"
)

// classPrefixes are the error classes named per protocol error
// (pg_<SQLSTATE>, redis_<PREFIX>); extraClasses are those of drivers still
// to come.
var (
	classPrefixes = []string{"pg_", "redis_"}
	extraClasses  = []string{"ws_closed"}
)

func (c *checker) thresholdSets() {
	c.thresholdSet("thresholds", c.e.Thresholds, false)
	c.thresholdSet("degradation", c.e.Degradation, false)
	c.thresholdSet("abort", c.e.Abort, true)
	c.rotationThresholds("thresholds", c.e.Thresholds)
	c.rotationThresholds("abort", c.e.Abort)
	if len(c.e.Degradation) > 0 && len(c.e.Faults) == 0 {
		c.errorf("degradation", "is judged only while a fault is active, and this experiment has no faults; add faults or remove it")
	}
}

// thresholdSet checks one section's conditions: "for" only where allowed,
// and tag values that name what the experiment has.
func (c *checker) thresholdSet(section string, ts Thresholds, allowFor bool) {
	for _, t := range ts {
		path := section + "." + t.Key
		if t.Cond.For != 0 && !allowFor {
			c.errorAt(t.Pos, path, "in %q: \"for\" applies only to abort conditions; %s must hold on every window", t.Cond.Text, section)
		}
		for _, tag := range t.Metric.Tags {
			if valid, ok := c.tagValues(tag.Key); ok && !containsString(valid, tag.Value) {
				c.errorf(path, "unknown %s %q in {%s:%s}%s; valid: %s", tag.Key, tag.Value, tag.Key, tag.Value,
					didYouMean(tag.Value, valid), listOr(valid, "none"))
			}
		}
		if tag := t.Metric.Tag("class"); tag != "" && !knownClass(tag) {
			c.errorf(path, "unknown error class %q%s; valid: %s, pg_<SQLSTATE>, redis_<PREFIX>", tag,
				didYouMean(tag, load.BuiltinClasses), strings.Join(slices.Concat(load.BuiltinClasses, extraClasses), ", "))
		}
	}
}

// tagValues returns the values a tag selector may take when the experiment
// defines them (scenario, step, target names); ok is false for other tags.
func (c *checker) tagValues(key string) (valid []string, ok bool) {
	switch key {
	case "scenario":
		for _, s := range c.e.Scenarios {
			valid = append(valid, s.Name)
		}
	case "step":
		valid = c.stepNames(false)
	case "target":
		valid = c.targetNames()
	default:
		return nil, false
	}
	return valid, true
}

func knownClass(class string) bool {
	if containsString(load.BuiltinClasses, class) || containsString(extraClasses, class) {
		return true
	}
	for _, p := range classPrefixes {
		if strings.HasPrefix(class, p) && len(class) > len(p) {
			return true
		}
	}
	return false
}

// stepNames lists the names of the steps of every scenario, once each;
// with ack, only the steps that have ack:.
func (c *checker) stepNames(ack bool) []string {
	var names []string
	for _, s := range c.e.Scenarios {
		for _, st := range s.Steps {
			if st.Name != "" && (!ack || st.Ack != "") && !containsString(names, st.Name) {
				names = append(names, st.Name)
			}
		}
	}
	return names
}
