package config

import (
	"cmp"
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/chaosload/chaosload/load"
)

// executorFields are the scenario keys each executor takes beyond
// scenarioCommon; a key of another executor is an error.
var executorFields = map[load.Executor][]string{
	load.ConstantArrivalRate: {"rate", "timeUnit", "duration", "preAllocatedVUs", "maxVUs", "arrival"},
	load.RampingArrivalRate:  {"startRate", "stages", "timeUnit", "preAllocatedVUs", "maxVUs", "arrival"},
	load.ConstantVUs:         {"vus", "duration"},
	load.RampingVUs:          {"stages", "startVUs", "gracefulRampDown"},
	load.PerVUIterations:     {"vus", "iterations", "maxDuration"},
	load.SharedIterations:    {"vus", "iterations", "maxDuration"},
}

// scenarioCommon are the scenario keys of every executor.
var scenarioCommon = []string{"executor", "startTime", "gracefulStop", "tags", "steps", "data", "dataOrder"}

// httpMethods are the methods an http step may use.
var httpMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

func (c *checker) scenarios() {
	if len(c.e.Scenarios) == 0 && c.e.noScenariosOK {
		return
	}
	if len(c.e.Scenarios) == 0 {
		c.errorf("scenarios", "at least one scenario is required, e.g. scenarios: "+
			"{users: {executor: constant-vus, vus: 10, duration: 30s, steps: [{http: {url: ...}}]}}")
		return
	}
	for i := range c.e.Scenarios {
		c.scenario(&c.e.Scenarios[i])
	}
	c.outsideSteps()
}

func (c *checker) scenario(s *load.Scenario) {
	path := "scenarios." + s.Name
	if !nameRE.MatchString(s.Name) {
		c.errorf(path, "scenario name %q may hold only letters, digits, - and _", s.Name)
	}
	c.executor(s, path)
	c.nonNegative(path+".startTime", s.StartTime)
	if s.GracefulStop != nil {
		c.nonNegative(path+".gracefulStop", *s.GracefulStop)
	}
	cols, dataOK := c.data(s, path)
	c.steps(s, path)
	c.templates(s, path, cols, dataOK)
}

func (c *checker) nonNegative(path string, d time.Duration) {
	if d < 0 {
		c.errorf(path, "must not be negative")
	}
}

func (c *checker) executor(s *load.Scenario, path string) {
	var names []string
	for _, ex := range load.Executors {
		names = append(names, string(ex))
	}
	fields, ok := executorFields[s.Executor]
	switch {
	case s.Executor == "":
		c.errorf(path+".executor", "is required; valid executors: %s", strings.Join(names, ", "))
		return
	case !ok:
		c.errorf(path+".executor", "unknown executor %q%s; valid executors: %s",
			s.Executor, didYouMean(string(s.Executor), names), strings.Join(names, ", "))
		return
	}
	c.foreignFields(s, path, fields)
	switch s.Executor {
	case load.ConstantArrivalRate:
		c.arrivalRate(s, path)
		c.arrival(s, path)
	case load.RampingArrivalRate:
		c.rampingArrivalRate(s, path)
		c.arrival(s, path)
	case load.ConstantVUs:
		c.constantVUs(s, path)
	case load.RampingVUs:
		c.rampingVUs(s, path)
	case load.PerVUIterations, load.SharedIterations:
		c.iterations(s, path)
	}
}

// foreignFields reports keys written (or set) that the scenario's executor
// does not take.
func (c *checker) foreignFields(s *load.Scenario, path string, fields []string) {
	v := reflect.ValueOf(s).Elem()
	for _, f := range fieldsOf(v.Type()) {
		if containsString(scenarioCommon, f.name) || containsString(fields, f.name) {
			continue
		}
		fp := path + "." + f.name
		if c.e.written(fp) || !v.FieldByIndex(f.index).IsZero() {
			c.errorf(fp, "%s is not a field of %s (its fields: %s)", f.name, s.Executor, strings.Join(fields, ", "))
		}
	}
}

func (c *checker) arrivalRate(s *load.Scenario, path string) {
	unit := cmp.Or(s.TimeUnit, load.DefaultTimeUnit)
	switch perSecond := s.Rate * float64(time.Second) / float64(unit); {
	case !(s.Rate > 0):
		c.errorf(path+".rate", "is required and must be positive: iterations started per timeUnit, e.g. rate: 100")
	case unit > 0 && perSecond > maxPerSec:
		c.errorf(path+".rate", "%g per %s is %.4g/s, more than one scenario can pace; valid: above 0, up to %d/s (with timeUnit %s: rate ≤ %s)",
			s.Rate, unit, perSecond, maxPerSec, unit, strconv.FormatFloat(maxPerSec*float64(unit)/float64(time.Second), 'f', -1, 64))
	}
	c.positiveDuration(path+".duration", s.Duration)
	c.nonNegative(path+".timeUnit", s.TimeUnit)
	if s.PreAllocatedVUs <= 0 {
		c.errorf(path+".preAllocatedVUs", "is required and must be positive, e.g. preAllocatedVUs: 50")
	} else if s.MaxVUs != 0 && s.MaxVUs < s.PreAllocatedVUs {
		c.errorf(path+".maxVUs", "must be at least preAllocatedVUs (%d)", s.PreAllocatedVUs)
	}
}

func (c *checker) constantVUs(s *load.Scenario, path string) {
	if s.VUs <= 0 {
		c.errorf(path+".vus", "is required and must be positive, e.g. vus: 10")
	}
	c.positiveDuration(path+".duration", s.Duration)
}

func (c *checker) rampingVUs(s *load.Scenario, path string) {
	c.stages(s, path, "100")
	for i, st := range s.Stages {
		if st.Target > maxVUs {
			c.errorf(fmt.Sprintf("%s.stages.%d.target", path, i), "%d VUs is out of range; valid: 0 to %d", st.Target, maxVUs)
		}
	}
	if s.StartVUs != nil && *s.StartVUs < 0 {
		c.errorf(path+".startVUs", "must not be negative")
	}
	if s.GracefulRampDown != nil {
		c.nonNegative(path+".gracefulRampDown", *s.GracefulRampDown)
	}
}

// stages checks the stages of a ramping executor; example is a target to
// show.
func (c *checker) stages(s *load.Scenario, path, example string) {
	if len(s.Stages) == 0 {
		c.errorf(path+".stages", "at least one stage is required, e.g. stages: [{duration: 30s, target: %s}]", example)
	}
	var total time.Duration
	for i, st := range s.Stages {
		sp := fmt.Sprintf("%s.stages.%d", path, i)
		c.nonNegative(sp+".duration", st.Duration)
		if st.Target < 0 {
			c.errorf(sp+".target", "must not be negative")
		}
		total += st.Duration
	}
	if len(s.Stages) > 0 && total <= 0 {
		c.errorf(path+".stages", "the stages last %s; give them durations, e.g. {duration: 30s, target: %s}", total, example)
	}
}

func (c *checker) positiveDuration(path string, d time.Duration) {
	if d <= 0 {
		c.errorf(path, "is required and must be positive, e.g. 60s")
	}
}

func (c *checker) steps(s *load.Scenario, path string) {
	if len(s.Steps) == 0 {
		c.errorf(path+".steps", "at least one step is required, e.g. steps: [{http: {url: \"http://${targets.api}/\"}}]")
		return
	}
	seen := map[string]int{}
	for i := range s.Steps {
		st := &s.Steps[i]
		sp := fmt.Sprintf("%s.steps.%d", path, i)
		c.step(st, sp)
		if st.Name == "" {
			continue
		}
		if strings.Contains(st.Name, "${") {
			c.errorf(sp+".name", "a name is not expanded at run time; write it without ${ (an environment ${NAME} is fine)")
		}
		if j, dup := seen[st.Name]; dup {
			c.errorf(sp+".name", "step %d is also called %q; give each step its own name: (ack and verify refer to it)", j, st.Name)
			continue
		}
		seen[st.Name] = i
	}
}

func (c *checker) step(st *load.Step, path string) {
	ops := stepOps(st)
	switch {
	case len(ops) == 0:
		if !c.failedUnder(path, stepOpKeys()) {
			c.errorf(path, "a step needs an operation: %s", strings.Join(stepOpKeys(), ", "))
		}
	case len(ops) > 1:
		c.errorf(path, "has %s; a step does exactly one operation", strings.Join(ops, " and "))
	}
	if st.HTTP != nil {
		c.httpStep(st, path+".http")
	}
	c.extracts(st, path)
	c.protocolStep(st, path)
}

// failedUnder reports whether any of path's keys failed to decode.
func (c *checker) failedUnder(path string, keys []string) bool {
	for _, k := range keys {
		if c.failed[path+"."+k] {
			return true
		}
	}
	return false
}

// stepOpKeys lists the step keys that are operations: the pointer-to-struct
// fields of load.Step (http, and the protocols to come).
func stepOpKeys() []string {
	var keys []string
	t := reflect.TypeFor[load.Step]()
	for _, f := range fieldsOf(t) {
		if ft := t.FieldByIndex(f.index).Type; ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct {
			keys = append(keys, f.name)
		}
	}
	return keys
}

// stepOps lists the operation keys set in st.
func stepOps(st *load.Step) []string {
	v := reflect.ValueOf(st).Elem()
	var set []string
	for _, k := range stepOpKeys() {
		f, _ := fieldNamed(fieldsOf(v.Type()), k)
		if !v.FieldByIndex(f.index).IsNil() {
			set = append(set, k)
		}
	}
	return set
}

func (c *checker) httpStep(st *load.Step, path string) {
	h := st.HTTP
	if h.URL == "" {
		c.errorf(path+".url", "is required, e.g. url: \"http://${targets.api}/api/products\"")
	} else if !validHTTPURL(h.URL) {
		c.errorf(path+".url", "want an absolute http:// or https:// URL such as http://${targets.api}/api/products, got %q", h.URL)
	}
	if h.Method != "" && !containsString(httpMethods, h.Method) {
		c.errorf(path+".method", "unknown method %q%s; valid: %s", h.Method, didYouMean(h.Method, httpMethods), strings.Join(httpMethods, ", "))
	}
	c.httpBody(h, path)
	c.httpExpect(h, path)
	c.nonNegative(path+".timeout", h.Timeout)
	if t := c.e.Target(firstTarget(h.URL)); t != nil && (t.Protocol == "postgres" || t.Protocol == "redis") {
		c.errorf(path+".url", "goes through target %q, whose protocol is %s; an http step needs a tcp or http target", t.Name, t.Protocol)
	}
}

// validHTTPURL reports whether u, with its ${...} (addresses and run-time
// variables alike) standing for a host, is an absolute http(s) URL.
func validHTTPURL(u string) bool {
	s, err := rewriteVars(runtimePlaceholders(u), true, func(varToken, int) (string, error) { return "placeholder", nil }, nil)
	if err != nil {
		return false
	}
	parsed, err := url.Parse(s)
	return err == nil && (parsed.Scheme == "http" || parsed.Scheme == "https") && parsed.Host != ""
}
