package load

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// tmplVU is a VU with a variable, a data row and a seeded source.
func tmplVU(seed uint64) *VU {
	vu := newVU(7, &Scenario{}, Clock{}, seed, 0)
	vu.Iteration = 3
	vu.SetVar("token", `a"b\c`)
	d, err := ReadData(strings.NewReader("user,pass\nann,x1\nbob,x2\n"))
	if err != nil {
		panic(err)
	}
	vu.UseData(d, 1)
	return vu
}

func TestTemplate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
		json           bool
	}{
		// no variable: the text as is
		{"static", "http://127.0.0.1:1/api", "http://127.0.0.1:1/api", false},
		// the VU's id, iteration, variable and data row
		{"vu", "/u/${vu.id}/i/${iteration}?t=${vu.token}&u=${data.user}", `/u/7/i/3?t=a"b\c&u=bob`, false},
		// an escaped ${ is literal, as is a ${...} of no run-time kind
		{"literal", "$${vu.id} ${HOME} ${", "${vu.id} ${HOME} ${", false},
		// random.int within its bounds (seeded: see TestTemplateRandom)
		{"int", "${random.int(5,5)}", "5", false},
		// spaces inside the braces are allowed
		{"spaces", "${ vu.id }", "7", false},
		// in JSON, a value is escaped as string content
		{"json escape", `{"t":"${vu.token}"}`, `{"t":"a\"b\\c"}`, true},
		// in JSON, a string that is one numeric variable becomes a number
		{"json number", `{"id":"${vu.id}","n":"${iteration}","q":"${random.int(2,2)}"}`, `{"id":7,"n":3,"q":2}`, true},
		// ...but not inside a longer string, nor as a key
		{"json string", `{"a":"x${vu.id}","${vu.id}":"${vu.id} "}`, `{"a":"x7","7":"7 "}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			parse := ParseTemplate
			if tt.json {
				parse = ParseJSONTemplate
			}
			tmpl, err := parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tmpl.String(tmplVU(1))
			if err != nil || got != tt.want {
				t.Fatalf("%s → %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestTemplateErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"${random.int(1)}", "${random.int(5,1)}", "${random.float}", "${vu.}", "${data.a b}"} {
		if _, err := ParseTemplate(in); err == nil || !strings.Contains(err.Error(), in) {
			t.Errorf("ParseTemplate(%q) error %v, want one naming it", in, err)
		}
	}
	// a variable no step set, and data without data, fail at render time
	for _, in := range []string{"${vu.session}", "${data.user}"} {
		tmpl, err := ParseTemplate(in)
		if err != nil {
			t.Fatal(err)
		}
		vu := newVU(1, &Scenario{}, Clock{}, 1, 0)
		if _, err := tmpl.String(vu); err == nil || !strings.Contains(err.Error(), in) {
			t.Errorf("rendering %q without a value: error %v", in, err)
		}
	}
}

// TestTemplateRandom: random values come from the VU's seeded source: in
// range, a UUID of version 4, and the same seed gives the same values.
func TestTemplateRandom(t *testing.T) {
	t.Parallel()
	tmpl, err := ParseTemplate("${random.uuid} ${random.int(1,100)}")
	if err != nil {
		t.Fatal(err)
	}
	uuidRE := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a, b := tmplVU(1), tmplVU(1)
	seen := map[string]bool{}
	for range 1000 {
		x, _ := tmpl.String(a)
		y, _ := tmpl.String(b)
		if x != y {
			t.Fatalf("same seed, %q and %q", x, y)
		}
		u, n, _ := strings.Cut(x, " ")
		if !uuidRE.MatchString(u) || len(n) == 0 || len(n) > 3 || n == "0" || (len(n) == 3 && n != "100") {
			t.Fatalf("%q: not a v4 UUID and an int in [1,100]", x)
		}
		seen[n] = true
	}
	if len(seen) < 95 {
		t.Errorf("%d distinct ints in 1000 draws from [1,100]", len(seen))
	}
	if z, _ := tmpl.String(tmplVU(2)); z == func() string { s, _ := tmpl.String(tmplVU(1)); return s }() {
		t.Error("another seed gave the same values")
	}
}

// TestTemplateRefs lists the variables for validation, with offsets.
func TestTemplateRefs(t *testing.T) {
	t.Parallel()
	tmpl, _ := ParseTemplate("a${vu.token}b$${vu.x}${iteration}${random.int(1,2)}${data.user}")
	want := []TemplateRef{
		{1, "${vu.token}", "vu", "token"}, {21, "${iteration}", "iteration", ""},
		{33, "${random.int(1,2)}", "random", "int"}, {51, "${data.user}", "data", "user"},
	}
	if got := tmpl.Refs(); !equal(got, want) {
		t.Fatalf("refs %+v, want %+v", got, want)
	}
}

// BenchmarkTemplate renders a URL with a variable and an id.
func BenchmarkTemplate(b *testing.B) {
	b.ReportAllocs()
	tmpl, _ := ParseTemplate("http://127.0.0.1:8080/api/users/${vu.id}/orders?token=${vu.token}")
	vu := tmplVU(1)
	vu.Rand = rand.New(rand.NewPCG(1, 1))
	buf := make([]byte, 0, 128)
	for range b.N {
		buf, _ = tmpl.Append(buf[:0], vu)
	}
}
