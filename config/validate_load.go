package config

import (
	"cmp"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/chaosload/chaosload/load"
)

// The checks of the load features beyond the first three executors: the
// other executors, arrival processes, data files, request bodies and expectations,
// extracts, and the run-time variables of step templates.

func (c *checker) arrival(s *load.Scenario, path string) {
	if s.Arrival != "" && !slices.Contains(load.Arrivals, s.Arrival) {
		c.errorf(path+".arrival", "unknown arrival %q%s; valid: %s", s.Arrival,
			didYouMean(string(s.Arrival), names(load.Arrivals)), strings.Join(names(load.Arrivals), ", "))
	}
}

func (c *checker) rampingArrivalRate(s *load.Scenario, path string) {
	if s.StartRate < 0 {
		c.errorf(path+".startRate", "must not be negative: iterations started per timeUnit at the start")
	}
	c.stages(s, path, "200")
	c.nonNegative(path+".timeUnit", s.TimeUnit)
	if s.PreAllocatedVUs <= 0 {
		c.errorf(path+".preAllocatedVUs", "is required and must be positive, e.g. preAllocatedVUs: 50")
	} else if s.MaxVUs != 0 && s.MaxVUs < s.PreAllocatedVUs {
		c.errorf(path+".maxVUs", "must be at least preAllocatedVUs (%d)", s.PreAllocatedVUs)
	}
	peak := s.StartRate
	for _, st := range s.Stages {
		peak = max(peak, float64(st.Target))
	}
	unit := cmp.Or(s.TimeUnit, load.DefaultTimeUnit)
	if perSecond := peak * float64(time.Second) / float64(unit); unit > 0 && perSecond > 1e6 {
		c.errorf(path+".stages", "the peak rate %v per %s is %.0f/s, more than one scenario can pace (1000000/s)", peak, unit, perSecond)
	}
}

func (c *checker) iterations(s *load.Scenario, path string) {
	if s.VUs < 0 {
		c.errorf(path+".vus", "must not be negative (default 1)")
	}
	if s.Iterations < 0 {
		c.errorf(path+".iterations", "must not be negative (default 1)")
	}
	c.nonNegative(path+".maxDuration", s.MaxDuration)
	vus, iters := cmp.Or(s.VUs, load.DefaultVUs), cmp.Or(s.Iterations, load.DefaultIterations)
	if s.Executor == load.SharedIterations && vus > 0 && iters > 0 && iters < vus {
		c.errorf(path+".iterations", "%d iterations shared by %d VUs would leave VUs idle; give at least vus: %d iterations, or fewer vus",
			iters, vus, vus)
	}
}

// data reads the scenario's data file and checks its order; it returns
// the file's columns (what ${data.NAME} may name), and false when the file
// could not be read (already reported).
func (c *checker) data(s *load.Scenario, path string) ([]string, bool) {
	if s.DataOrder != "" && !slices.Contains(load.DataOrders, s.DataOrder) {
		c.errorf(path+".dataOrder", "unknown order %q%s; valid: %s", s.DataOrder,
			didYouMean(string(s.DataOrder), names(load.DataOrders)), strings.Join(names(load.DataOrders), ", "))
	}
	if s.Data == "" {
		if s.DataOrder != "" {
			c.errorf(path+".dataOrder", "applies to data; add data: FILE.csv")
		}
		return nil, true
	}
	rows := s.Rows
	if rows == nil {
		var err error
		if rows, err = load.ReadDataFile(s.Data); err != nil {
			c.errorf(path+".data", "%v; want a CSV file with a header row naming the columns, then rows", err)
			return nil, false
		}
	}
	return rows.Columns(), true
}

// httpBody checks that a request has one body and that a body file can be
// read.
func (c *checker) httpBody(h *load.HTTPRequest, path string) {
	var set []string
	for _, b := range []struct {
		key string
		on  bool
	}{{"json", h.JSON != nil}, {"body", h.Body != ""}, {"bodyFile", h.BodyFile != ""}, {"bodySize", h.BodySize > 0}} {
		if b.on {
			set = append(set, b.key)
		}
	}
	switch {
	case len(set) == 2:
		c.errorf(path+"."+set[1], "%s and %s are both set; a request has one body", set[0], set[1])
	case len(set) > 2:
		c.errorf(path+"."+set[1], "%s and %s are all set; a request has one body", strings.Join(set[:len(set)-1], ", "), set[len(set)-1])
	}
	if h.BodyFile != "" {
		if f, err := os.Open(h.BodyFile); err != nil {
			c.errorf(path+".bodyFile", "cannot be read: %v", err)
		} else {
			f.Close()
		}
	}
}

// httpExpect checks an expect: a list of statuses.
func (c *checker) httpExpect(h *load.HTTPRequest, path string) {
	if h.Expect == nil {
		return
	}
	if len(h.Expect.Status) == 0 {
		c.errorf(path+".expect.status", "is required: the statuses that count as success, e.g. status: [200, 201]")
	}
	for i, code := range h.Expect.Status {
		if code < 100 || code > 599 {
			c.errorf(fmt.Sprintf("%s.expect.status.%d", path, i), "%d is not an HTTP status (100–599)", code)
		}
	}
}

// extracts checks a step's extracts.
func (c *checker) extracts(st *load.Step, path string) {
	if len(st.Extract) > 0 && st.HTTP == nil {
		c.errorf(path+".extract", "reads an HTTP response; this step has none")
	}
	for _, x := range st.Extract {
		xp := path + ".extract." + x.Name
		if !nameRE.MatchString(x.Name) || x.Name == "id" {
			c.errorf(xp, "%q cannot name a variable: use letters, digits, - and _ (not id: ${vu.id} is the VU's id)", x.Name)
		}
		n := 0
		for _, s := range []string{x.JSON, x.Header, x.Regex} {
			if s != "" {
				n++
			}
		}
		if n != 1 {
			c.errorf(xp, "give exactly one of json (a field path), header (a name) or regex (with a group), e.g. {json: data.token}")
		}
		if x.Regex != "" {
			if _, err := regexp.Compile(x.Regex); err != nil {
				c.errorf(xp+".regex", "%v", err)
			}
		}
	}
}

// nonTemplate are the step keys that are not filled in at run time (a
// name is checked by steps()).
var nonTemplate = []string{"ack", "method", "bodyFile", "extract"}

// templates checks the run-time variables of a scenario: only in step
// fields that are templates, well formed, ${vu.NAME} extracted by an
// earlier step of the scenario, ${data.COLUMN} one of cols (the columns of
// its data; dataOK false: the file could not be read, already reported).
func (c *checker) templates(s *load.Scenario, path string, cols []string, dataOK bool) {
	for i := range s.Steps {
		sp := fmt.Sprintf("%s.steps.%d", path, i)
		earlier := extractedBefore(s, i)
		c.eachRuntimeVar(&s.Steps[i], sp, func(fp string, pos Pos, t varToken) {
			if key := stepKey(fp, sp); slices.Contains(nonTemplate, key) {
				c.errorAt(pos, fp, "%s: %s is not filled in at run time; run-time variables go in urls, headers and bodies", t.Raw, key)
				return
			}
			c.runtimeVar(s, pos, fp, t, earlier, cols, dataOK)
		})
	}
}

// runtimeVar checks one run-time variable of a step.
func (c *checker) runtimeVar(s *load.Scenario, pos Pos, path string, t varToken, earlier, cols []string, dataOK bool) {
	tmpl, err := load.ParseTemplate(t.Raw)
	if err != nil {
		c.errorAt(pos, path, "%v", err)
		return
	}
	for _, ref := range tmpl.Refs() {
		switch {
		case ref.Kind == "vu" && ref.Name != "id" && !slices.Contains(earlier, ref.Name):
			c.errorAt(pos, path, "%s: no earlier step of scenario %q extracts %q%s; extracted before this step: %s",
				t.Raw, s.Name, ref.Name, didYouMean(ref.Name, earlier), listOr(earlier, "none (add extract: {"+ref.Name+": {json: FIELD}} to an earlier step)"))
		case ref.Kind == "data" && s.Data == "":
			c.errorAt(pos, path, "%s: scenario %q has no data; add data: FILE.csv with a column %q", t.Raw, s.Name, ref.Name)
		case ref.Kind == "data" && dataOK && !slices.Contains(cols, ref.Name):
			c.errorAt(pos, path, "%s: %s has no column %q%s; its columns: %s", t.Raw, s.Data, ref.Name,
				didYouMean(ref.Name, cols), strings.Join(cols, ", "))
		}
	}
}

// eachRuntimeVar calls fn with every run-time variable in st's strings.
func (c *checker) eachRuntimeVar(st *load.Step, path string, fn func(path string, pos Pos, t varToken)) {
	walkStrings(reflect.ValueOf(st).Elem(), path, func(fp, s string) string {
		if strings.Contains(s, "${") {
			_, _ = rewriteVars(s, false, func(t varToken, _ int) (string, error) { return t.Raw, nil },
				func(t varToken, off int) { fn(fp, c.e.refPos(fp, off), t) })
		}
		return s
	})
}

// outsideSteps reports run-time variables anywhere but in steps.
func (c *checker) outsideSteps() {
	walkStrings(reflect.ValueOf(c.e).Elem(), "", func(fp, s string) string {
		if !strings.Contains(s, "${") || isStepPath(fp) {
			return s
		}
		_, _ = rewriteVars(s, false, func(t varToken, _ int) (string, error) { return t.Raw, nil },
			func(t varToken, off int) {
				c.errorAt(c.e.refPos(fp, off), fp, "%s is a run-time variable of steps (urls, headers, bodies); here it would stay as written", t.Raw)
			})
		return s
	})
}

// isStepPath reports whether a field path is inside a scenario's steps.
func isStepPath(path string) bool {
	parts := strings.SplitN(path, ".", 4)
	return len(parts) >= 3 && parts[0] == "scenarios" && parts[2] == "steps"
}

// stepKey returns the first key of field path fp below the step at sp
// ("http" for ...steps.0.http.url), or the key below http (url, method, ...)
// when that is where fp is, whichever names a non-template field.
func stepKey(fp, sp string) string {
	rest := strings.Split(strings.TrimPrefix(fp, sp+"."), ".")
	if len(rest) >= 2 && rest[0] == "http" {
		return rest[1]
	}
	return rest[0]
}

// extractedBefore lists the variables the steps before step i extract.
func extractedBefore(s *load.Scenario, i int) []string {
	var out []string
	for _, st := range s.Steps[:i] {
		for _, x := range st.Extract {
			if !slices.Contains(out, x.Name) {
				out = append(out, x.Name)
			}
		}
	}
	return out
}

// runtimePlaceholders replaces every run-time variable of s with a word,
// for checks of a URL's shape.
func runtimePlaceholders(s string) string {
	out, err := rewriteVars(s, false, func(t varToken, _ int) (string, error) { return t.Raw, nil }, nil)
	if err != nil {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(out); {
		if strings.HasPrefix(out[i:], "${") && !(i > 0 && out[i-1] == '$') {
			if t, err := scanVar(out, i); err == nil && isRuntimeVar(t.Name) {
				b.WriteString("x")
				i += len(t.Raw)
				continue
			}
		}
		b.WriteByte(out[i])
		i++
	}
	return b.String()
}

// names renders a list of string-like values.
func names[T ~string](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}
