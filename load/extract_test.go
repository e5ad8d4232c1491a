package load

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestExtract(t *testing.T) {
	t.Parallel()
	body := []byte(`{"data": {"token": "t-1", "n": 12.50, "ok": true, "items": [{"id": 4}], "obj": {"a": 1}, "nil": null},
	 "html": "<input name=\"csrf\" value=\"c-9\">"}`)
	header := http.Header{"X-Session": {"s-3"}}
	tests := []struct {
		name string
		x    Extract
		want string // "" for an error
		err  string
	}{
		// a JSON string
		{"json", Extract{JSON: "data.token"}, "t-1", ""},
		// a number keeps its text
		{"number", Extract{JSON: "data.n"}, "12.50", ""},
		// a boolean as text
		{"bool", Extract{JSON: "data.ok"}, "true", ""},
		// an array index
		{"index", Extract{JSON: "data.items.0.id"}, "4", ""},
		// an object as its JSON
		{"object", Extract{JSON: "data.obj"}, `{"a":1}`, ""},
		// a header
		{"header", Extract{Header: "X-Session"}, "s-3", ""},
		// a regex's first group
		{"regex group", Extract{Regex: `value=\\"([^\\]+)`}, "c-9", ""},
		// a regex without a group: the whole match
		{"regex whole", Extract{Regex: `t-\d`}, "t-1", ""},
		// missing field, null, no match, no header: errors naming what is missing
		{"missing", Extract{JSON: "data.nope"}, "", `no "data.nope"`},
		{"past the end", Extract{JSON: "data.items.3"}, "", `no "data.items.3"`},
		{"null", Extract{JSON: "data.nil"}, "", "null"},
		{"no match", Extract{Regex: `zzz`}, "", "matches nothing"},
		{"no header", Extract{Header: "X-Nope"}, "", `no header "X-Nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.x.Name = "v"
			vu := newVU(1, &Scenario{}, Clock{}, 1, 0)
			err := vu.ExtractFrom(&Step{Extract: []Extract{tt.x}}, body, header.Get)
			got, _ := vu.Var("v")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	vu := newVU(1, &Scenario{}, Clock{}, 1, 0)
	if err := vu.ExtractFrom(&Step{Extract: []Extract{{Name: "v", JSON: "a"}}}, []byte("not json"), nil); err == nil {
		t.Error("extracting JSON from text should fail")
	}
}

// TestUserFlow: a value one step extracts is read by the next through a
// template, per VU, and stays for the VU's later iterations; each iteration
// gets the next data row.
func TestUserFlow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		users, err := ReadData(strings.NewReader("user\nann\nbob\ncy\n"))
		if err != nil {
			t.Fatal(err)
		}
		authTmpl, _ := ParseTemplate("Bearer ${vu.token} for ${data.user}")
		var mu sync.Mutex
		var auths []string
		d := driverFunc(func(ctx context.Context, vu *VU, st *Step, res *Result) {
			switch st.Name {
			case "login":
				user, _ := vu.Row("user")
				if err := vu.ExtractFrom(st, []byte(`{"token":"tok-`+user+`"}`), nil); err != nil {
					t.Error(err)
				}
			case "orders":
				s, err := authTmpl.String(vu)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				auths = append(auths, s)
				mu.Unlock()
			}
		})
		sc := Scenario{Name: "flow", Executor: PerVUIterations, VUs: 1, Iterations: 4, Rows: users,
			Steps: []Step{
				{Name: "login", HTTP: &HTTPRequest{}, Extract: []Extract{{Name: "token", JSON: "token"}}},
				{Name: "orders", HTTP: &HTTPRequest{}, Think: Think{time.Second, time.Second}},
			}}
		l, _ := startLoad(t, d, sc)
		run(t, l)
		want := []string{"Bearer tok-ann for ann", "Bearer tok-bob for bob", "Bearer tok-cy for cy", "Bearer tok-ann for ann"}
		if !equal(auths, want) {
			t.Fatalf("authenticated calls %q, want %q", auths, want)
		}
	})
}

// TestRandomDataOrder: dataOrder: random draws rows from the seed.
func TestRandomDataOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rows, _ := ReadData(strings.NewReader("n\n0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n"))
		var mu sync.Mutex
		var got []string
		d := driverFunc(func(_ context.Context, vu *VU, _ *Step, _ *Result) {
			v, _ := vu.Row("n")
			mu.Lock()
			got = append(got, v)
			mu.Unlock()
		})
		sc := Scenario{Name: "r", Executor: PerVUIterations, VUs: 1, Iterations: 30, Rows: rows, DataOrder: Random,
			Steps: []Step{step("get", 0)}}
		l, _ := startLoad(t, d, sc)
		run(t, l)
		inOrder := true
		for i, v := range got {
			inOrder = inOrder && v == string(rune('0'+i%10))
		}
		if len(got) != 30 || inOrder {
			t.Fatalf("rows %v: want 30 drawn at random", got)
		}
	})
}

// enderDriver counts EndIteration calls.
type enderDriver struct {
	mu    sync.Mutex
	ended map[int]int
}

func (d *enderDriver) Do(_ context.Context, vu *VU, _ *Step, res *Result) {}

func (d *enderDriver) EndIteration(vu *VU) {
	d.mu.Lock()
	d.ended[vu.ID]++
	d.mu.Unlock()
}

// TestEndIteration: a driver that implements IterationEnder hears of every
// iteration's end, once per iteration, however many of its steps ran.
func TestEndIteration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &enderDriver{ended: map[int]int{}}
		sc := Scenario{Name: "e", Executor: PerVUIterations, VUs: 2, Iterations: 3,
			Steps: []Step{step("a", 0), step("b", 0)}}
		l, _ := startLoad(t, d, sc)
		run(t, l)
		if len(d.ended) != 2 || d.ended[1] != 3 || d.ended[2] != 3 {
			t.Fatalf("EndIteration calls per VU %v, want 3 each", d.ended)
		}
	})
}
