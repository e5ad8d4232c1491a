package config

import (
	"slices"
	"strings"
	"testing"
)

// replicas is chaos with api as three replicas and a fault on it; rows edit
// it (the fault's select sits on line 29).
var replicas = strings.Replace(editChaos(`api: {upstream: "127.0.0.1:8080", protocol: http}`,
	`api: {upstreams: ["127.0.0.1:8081", "127.0.0.1:8082,127.0.0.1:8083"], protocol: http}`), "verify:", `  - name: api-down
    target: api
    kind: down
    startTime: 50s
    duration: 10s
    select: one
degradation:
  "rotation{target:api}": ["out < 5s", "back < 10s", "reached < 200"]
verify:`, 1)

func editReplicas(old, new string) string {
	if !strings.Contains(replicas, old) {
		panic("editReplicas: " + old + " is not in replicas")
	}
	return strings.Replace(replicas, old, new, 1)
}

// TestReplicasValid parses every shape of upstreams and select.
func TestReplicasValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want Select
	}{
		// select: one draws one replica
		{"one", replicas, Select{Mode: SelectOne}},
		// select: all is the default written out
		{"all", editReplicas("select: one", "select: all"), Select{Mode: SelectAll}},
		// a count of the three replicas
		{"count", editReplicas("select: one", "select: {count: 2}"), Select{Mode: SelectCount, Count: 2}},
		// a share of them
		{"percent", editReplicas("select: one", "select: {percent: 50}"), Select{Mode: SelectPercent, Percent: 50}},
		// replicas by index
		{"index", editReplicas("select: one", "select: {index: [0, 2]}"), Select{Mode: SelectIndex, Index: []int{0, 2}}},
		// the README's target: a share and a health check path
		{"backShare and checkPath", editReplicas("protocol: http}", "protocol: http, backShare: 50%, checkPath: /health}"), Select{Mode: SelectOne}},
		// a ${stack...} element: the count is known at run time only
		{"index on a stack list", strings.Replace(editReplicas("select: one", "select: {index: [5]}"),
			`"127.0.0.1:8082,127.0.0.1:8083"`, `"${stack.api}"`, 1) + "stack: {name: demo}\n", Select{Mode: SelectIndex, Index: []int{5}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := Parse("x.yaml", []byte(tt.src), Options{})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got := e.Faults[1].Select
			if got == nil || got.Mode != tt.want.Mode || got.Count != tt.want.Count || got.Percent != tt.want.Percent || !slices.Equal(got.Index, tt.want.Index) {
				t.Errorf("select = %+v, want %+v", got, tt.want)
			}
			if n := len(e.Target("api").UpstreamList()); n != 2 {
				t.Errorf("upstreams = %d elements, want 2", n)
			}
		})
	}
}

// TestReplicasErrors covers the rules of upstreams, select, replica
// indexes and rotation thresholds, each at its line:col.
func TestReplicasErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []string
	}{
		// upstream and upstreams together
		{"both", editReplicas(`{upstreams:`, `{upstream: "127.0.0.1:1", upstreams:`),
			[]string{`4:34 targets.api.upstreams: upstream and upstreams are exclusive`}},
		// an element that is no address
		{"bad element", editReplicas(`"127.0.0.1:8081"`, `"nowhere"`),
			[]string{`4:21 targets.api.upstreams.0: want host:port with a port from 1 to 65535, e.g. 127.0.0.1:8081, got "nowhere"`}},
		// a scalar that is neither one nor all
		{"select word", editReplicas("select: one", "select: two"),
			[]string{`29:13 faults.1.select: want all, one, {count: N}, {percent: P} or {index: [i, ...]}, got the string "two"`}},
		// two keys in one select
		{"select two keys", editReplicas("select: one", "select: {count: 1, percent: 5}"),
			[]string{`29:13 faults.1.select: want exactly one of count, percent and index, got count, percent`}},
		// an unknown key
		{"select unknown key", editReplicas("select: one", "select: {some: 1}"),
			[]string{`29:14 faults.1.select: unknown key "some"`}},
		// more replicas than the target has
		{"count too big", editReplicas("select: one", "select: {count: 4}"),
			[]string{`29:5 faults.1.select: count 4, but the target has 3 replicas`}},
		// an index past the last replica
		{"index too big", editReplicas("select: one", "select: {index: [3]}"),
			[]string{`29:5 faults.1.select: index 3, but the target has 3 replicas`}},
		// a replica twice
		{"index twice", editReplicas("select: one", "select: {index: [1, 1]}"),
			[]string{`29:14 faults.1.select.index: names a replica twice`}},
		// a percentage above 100
		{"percent span", editReplicas("select: one", "select: {percent: 150}"),
			[]string{`29:23 faults.1.select.percent: 150 is out of range`}},
		// select on a single-upstream target: a count makes no sense
		{"count on one upstream", strings.Replace(editReplicas("select: one", "select: {count: 1}"), "target: api", "target: pg", 1),
			[]string{`29:5 faults.1.select: target "pg" has one upstream`}},
		// ${targets.api[i]} past the last replica
		{"ref index", editReplicas("${targets.api}/orders", "${targets.api[3]}/orders"),
			[]string{`14:43 scenarios.s.steps.0.http.url: ${targets.api[3]}: target "api" has 3 replicas (indexes 0 to 2), no replica 3`}},
		// checkPath on a target that is not http
		{"checkPath protocol", strings.Replace(replicas, "protocol: postgres,", "protocol: postgres, checkPath: /health,", 1),
			[]string{`5:67 targets.pg.checkPath: applies only to http targets`}},
		// backShare above 100%
		{"backShare span", editReplicas("protocol: http}", "protocol: http, backShare: 150%}"),
			[]string{`4:100 targets.api.backShare: 150% is out of range; valid: 1% to 100%`}},
		// rotation outside degradation
		{"rotation in thresholds", editReplicas(`latency: ["p(95) < 100ms"]`, `"rotation{target:api}": ["out < 5s"]`),
			[]string{`17:28 thresholds.rotation{target:api}: rotation is judged per fault episode; move it to degradation`}},
		// a rotation aggregation that does not exist
		{"rotation agg", editReplicas(`"out < 5s"`, `"p(95) < 5s"`),
			[]string{`31:29 degradation.rotation{target:api}.0: in "p(95) < 5s": aggregation "p" does not apply here; valid: out, back, reached`}},
		// reached is a count
		{"reached unit", editReplicas(`"reached < 200"`, `"reached < 2s"`),
			[]string{`31:66 degradation.rotation{target:api}.2: in "reached < 2s": a count takes a plain number`}},
		// a tag other than target
		{"rotation tag", editReplicas(`"rotation{target:api}"`, `"rotation{step:order}"`),
			[]string{`31:13 degradation.rotation{step:order}: in "rotation{step:order}": rotation takes only the tag target`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkProblems(t, problems(t, tt.src, Options{}), tt.want)
		})
	}
}

// TestSelectPickIsSeeded: the same seed and fault name pick the same
// replicas; the draw depends on both.
func TestSelectPickIsSeeded(t *testing.T) {
	t.Parallel()
	s := &Select{Mode: SelectCount, Count: 2}
	first, err := s.Pick(10, 42, "api-down")
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		again, _ := s.Pick(10, 42, "api-down")
		if !slices.Equal(again, first) {
			t.Fatalf("seed 42 picked %v, then %v", first, again)
		}
	}
	differs := false
	for seed := int64(1); seed <= 20 && !differs; seed++ {
		other, _ := s.Pick(10, seed, "api-down")
		differs = !slices.Equal(other, first)
	}
	if !differs {
		t.Errorf("twenty seeds all picked %v", first)
	}
	if got, _ := (&Select{Mode: SelectPercent, Percent: 50}).Pick(3, 1, "x"); len(got) != 2 {
		t.Errorf("percent 50 of 3 picked %v, want 2 replicas (rounded up)", got)
	}
	if got, _ := (*Select)(nil).Pick(3, 1, "x"); !slices.Equal(got, []int{0, 1, 2}) {
		t.Errorf("no select picked %v, want every replica", got)
	}
}

// TestCheckTargetIndexes: once the replicas are counted at run time, an
// index past the last is an error naming the target and its count, at the
// variable's position.
func TestCheckTargetIndexes(t *testing.T) {
	t.Parallel()
	src := strings.Replace(editReplicas("${targets.api}/orders", "${targets.api[4]}/orders"),
		`"127.0.0.1:8082,127.0.0.1:8083"`, `"${stack.api}"`, 1) + "stack: {name: demo}\n"
	e, err := Parse("x.yaml", []byte(src), Options{})
	if err != nil {
		t.Fatalf("Parse: %v (the count is not known before the run)", err)
	}
	err = e.CheckTargetIndexes(func(string) int { return 4 })
	want := `x.yaml:14:43: scenarios.s.steps.0.http.url: ${targets.api[4]}: target "api" has 4 replicas (indexes 0 to 3), no replica 4`
	if err == nil || err.Error() != want {
		t.Errorf("CheckTargetIndexes = %v, want %s", err, want)
	}
	if err := e.CheckTargetIndexes(func(string) int { return 5 }); err != nil {
		t.Errorf("with 5 replicas: %v", err)
	}
}
