package readiness

import (
	"testing"
)

// FuzzParseCriteria: any input parses or is refused with an error, never a
// panic; what parses has a bound of a known kind on every criterion.
func FuzzParseCriteria(f *testing.F) {
	f.Add(DefaultYAML())
	f.Add([]byte("version: 1\ncriteria:\n  - {id: a, metric: p95_ms, expect: \"< 1s\"}\n"))
	f.Add([]byte("version: 1\ncriteria:\n  - {id: a, metric: threshold:ws_msgs, expect: \">= 10/s\", advisory: true}\n"))
	f.Add([]byte("version: 1\ncriteria: [{id: a, metric: breaking_point, expect: found}]\n"))
	f.Add([]byte("criteria: 3\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("f.yaml", data)
		if err != nil {
			return
		}
		for _, cr := range c.Criteria {
			if cr.ID == "" || cr.Expect.Op == "" || cr.Expect.Kind == AnyKind {
				t.Fatalf("criterion %+v parsed without an id or a bound", cr)
			}
		}
	})
}
