package readiness

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Errors is every problem found in a criteria file, in file order, each
// "file:line:col: what is wrong".
type Errors []error

// Error renders one problem per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// decoder holds the state of one Parse.
type decoder struct {
	file string
	errs Errors
}

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	d.errs = append(d.errs, fmt.Errorf("%s: %s", d.pos(n), fmt.Sprintf(format, args...)))
}

func (d *decoder) pos(n *yaml.Node) Pos { return Pos{File: d.file, Line: n.Line, Col: n.Column} }

var (
	topKeys       = []string{"version", "name", "criteria"}
	criterionKeys = []string{"id", "text", "tag", "metric", "expect", "advisory"}
)

// Parse decodes a criteria file strictly: an unknown key, a wrong type, an
// unknown metric, a bound whose unit does not fit its metric or a repeated
// id is an error naming the file, line and column and what is expected. The
// error, when not nil, is of type Errors and holds every problem found.
func Parse(file string, data []byte) (*Criteria, error) {
	d := &decoder{file: file}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return nil, fmt.Errorf("%s: empty criteria file; it needs version: 1 and criteria: [...]", file)
	}
	c := &Criteria{File: file}
	d.top(root.Content[0], c)
	if len(d.errs) > 0 {
		return nil, d.errs
	}
	return c, nil
}

// top decodes the document's mapping.
func (d *decoder) top(n *yaml.Node, c *Criteria) {
	seen := map[string]bool{}
	d.mapping(n, topKeys, func(k, v *yaml.Node) {
		seen[k.Value] = true
		switch k.Value {
		case "version":
			if v.Kind != yaml.ScalarNode || v.Value != "1" {
				d.errorf(v, "version: %q is not supported; write version: 1", v.Value)
			}
		case "name":
			c.Name = d.str(v, "name")
		case "criteria":
			d.criteria(v, c)
		}
	})
	for _, k := range []string{"version", "criteria"} {
		if n.Kind == yaml.MappingNode && !seen[k] {
			d.errorf(n, "%s: is required", k)
		}
	}
}

// criteria decodes the list of criteria.
func (d *decoder) criteria(n *yaml.Node, c *Criteria) {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "criteria: expected a list of criteria (- id: ..., metric: ..., expect: ...)")
		return
	}
	ids := map[string]Pos{}
	for i, item := range n.Content {
		cr := d.criterion(item, fmt.Sprintf("criteria[%d]", i))
		if cr.ID == "" {
			continue
		}
		if at, dup := ids[cr.ID]; dup {
			d.errorf(item, "criteria[%d].id: %q is already the id of the criterion at %s", i, cr.ID, at)
			continue
		}
		ids[cr.ID] = cr.Pos
		c.Criteria = append(c.Criteria, cr)
	}
}

// criterion decodes one criterion, path naming it in errors.
func (d *decoder) criterion(n *yaml.Node, path string) Criterion {
	cr := Criterion{Pos: d.pos(n)}
	var expect, metric *yaml.Node
	d.mapping(n, criterionKeys, func(k, v *yaml.Node) {
		switch k.Value {
		case "id":
			cr.ID = d.str(v, path+".id")
		case "text":
			cr.Text = d.str(v, path+".text")
		case "tag":
			cr.Tag = d.str(v, path+".tag")
		case "metric":
			cr.Metric, metric = d.str(v, path+".metric"), v
		case "expect":
			expect = v
		case "advisory":
			cr.Advisory = d.boolean(v, path+".advisory")
		}
	})
	if n.Kind != yaml.MappingNode {
		return Criterion{}
	}
	for _, req := range []struct {
		key string
		set bool
	}{{"id", cr.ID != ""}, {"metric", metric != nil}, {"expect", expect != nil}} {
		if !req.set {
			d.errorf(n, "%s.%s: is required", path, req.key)
		}
	}
	if metric == nil || expect == nil {
		return cr
	}
	m, ok := lookupMetric(cr.Metric)
	if !ok {
		d.errorf(metric, "%s.metric: unknown metric %q; valid: %s", path, cr.Metric, strings.Join(MetricNames(), ", "))
		return cr
	}
	b, err := parseBound(d.str(expect, path+".expect"), m.Kind)
	if err != nil {
		d.errorf(expect, "%s.expect: %v", path, err)
	}
	cr.Expect = b
	return cr
}

// mapping calls fn for each pair of the mapping n, reporting keys not in
// valid.
func (d *decoder) mapping(n *yaml.Node, valid []string, fn func(k, v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "expected a mapping with keys %s", strings.Join(valid, ", "))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case !slices.Contains(valid, k.Value):
			d.errorf(k, "unknown key %q; valid: %s", k.Value, strings.Join(valid, ", "))
		case seen[k.Value]:
			d.errorf(k, "%q is given twice", k.Value)
		default:
			seen[k.Value] = true
			fn(k, v)
		}
	}
}

// str reads a scalar as a string.
func (d *decoder) str(n *yaml.Node, path string) string {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.errorf(n, "%s: expected a string", path)
		return ""
	}
	return n.Value
}

// boolean reads a true or false.
func (d *decoder) boolean(n *yaml.Node, path string) bool {
	b, err := strconv.ParseBool(n.Value)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || err != nil {
		d.errorf(n, "%s: expected true or false", path)
	}
	return b
}
