package httpload

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/chaosload/chaosload/load"
)

// TestUserFlowOverHTTP: login → token → authenticated calls. The login
// step extracts a token from the JSON body and a session from a header;
// later steps send them in a header, the URL and a JSON body whose fields
// come from the VU's data row, its id and a seeded random number (sent as
// a JSON number). The server checks every request.
func TestUserFlowOverHTTP(t *testing.T) {
	t.Parallel()
	eachMode(t, modes, func(t *testing.T, m mode) {
		var mu sync.Mutex
		var problems strings.Builder
		srv := m.serve(t, func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/login":
				var in struct{ User string }
				json.NewDecoder(r.Body).Decode(&in)
				w.Header().Set("X-Session", "s-"+in.User)
				fmt.Fprintf(w, `{"data": {"token": "tok-%s"}}`, in.User)
			default: // /orders/s-USER
				var in struct {
					User string
					Qty  int
					VU   int
				}
				err := json.NewDecoder(r.Body).Decode(&in)
				want := "Bearer tok-" + in.User
				switch {
				case err != nil || r.Header.Get("Authorization") != want || r.URL.Path != "/orders/s-"+in.User || in.VU < 1:
					mu.Lock()
					fmt.Fprintf(&problems, "%s %s auth %q body %+v (%v)\n", r.Method, r.URL, r.Header.Get("Authorization"), in, err)
					mu.Unlock()
					w.WriteHeader(401)
				case in.Qty < 1 || in.Qty > 5:
					w.WriteHeader(422) // "again" sends the extracted 42 as 420
				}
				io.WriteString(w, `<p>order <b id="n">42</b></p>`)
			}
		})
		users, err := load.ReadData(strings.NewReader("user\nann\nbob\n"))
		if err != nil {
			t.Fatal(err)
		}
		steps := []load.Step{
			{Name: "login", HTTP: &load.HTTPRequest{Method: "POST", URL: srv.URL + "/login", JSON: map[string]any{"user": "${data.user}"}},
				Extract: []load.Extract{{Name: "token", JSON: "data.token"}, {Name: "session", Header: "X-Session"}}},
			{Name: "order", HTTP: &load.HTTPRequest{Method: "POST", URL: srv.URL + "/orders/${vu.session}",
				Headers: map[string]string{"Authorization": "Bearer ${vu.token}"},
				JSON:    map[string]any{"user": "${data.user}", "qty": "${random.int(1,5)}", "vu": "${vu.id}"}},
				Extract: []load.Extract{{Name: "order", Regex: `id="n">(\d+)<`}}},
			{Name: "again", HTTP: &load.HTTPRequest{Method: "POST", URL: srv.URL + "/orders/${vu.session}",
				Headers: map[string]string{"Authorization": "Bearer ${vu.token}"},
				Body:    `{"user": "${data.user}", "qty": ${vu.order}0, "vu": ${vu.id}}`}},
		}
		rs := runScenario(t, m.driver(t, Config{}, srv), load.Scenario{Name: "flow", Executor: load.PerVUIterations,
			VUs: 2, Iterations: 2, Rows: users, Steps: steps})
		ok := map[string]int{}
		for _, r := range rs {
			if r.OK() {
				ok[r.Step]++
			} else if r.Step != "again" || r.Status != 422 { // qty 420 is refused: the extract was used
				t.Errorf("%s: %s (%v)", r.Step, r.Class, r.Err)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if ok["login"] != 4 || ok["order"] != 4 || ok["again"] != 0 || problems.Len() > 0 {
			t.Fatalf("successes %v; the server saw:\n%s", ok, problems.String())
		}
	})
}

// TestExtractFailure: a response without the value to extract fails the
// step (class error), and the next step that needs it fails without being
// sent.
func TestExtractFailure(t *testing.T) {
	t.Parallel()
	var sent int
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/next" {
			sent++
		}
		io.WriteString(w, `{"other": 1}`)
	})
	d := newDriver(t, Config{})
	vu := newVU()
	first := &load.Step{Name: "login", HTTP: &load.HTTPRequest{URL: srv.URL + "/login"},
		Extract: []load.Extract{{Name: "token", JSON: "token"}}}
	if r := do(d, vu, first); r.Class != load.ClassOther || !strings.Contains(r.Err.Error(), `no "token"`) {
		t.Fatalf("class %q (%v), want error naming the missing field", r.Class, r.Err)
	}
	next := &load.Step{Name: "next", HTTP: &load.HTTPRequest{URL: srv.URL + "/next?t=${vu.token}"}}
	if r := do(d, vu, next); r.Class != load.ClassOther || sent != 0 {
		t.Fatalf("class %q (%v), sent %d; want error, nothing sent", r.Class, r.Err, sent)
	}
}
