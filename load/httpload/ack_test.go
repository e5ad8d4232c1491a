package httpload

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/chaosload/chaosload/load"
)

func TestAck(t *testing.T) {
	t.Parallel()
	eachMode(t, modes, testAck)
}

func testAck(t *testing.T, m mode) {
	srv := m.serve(t, func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.URL.Query().Get("code"))
		w.WriteHeader(code)
		io.WriteString(w, r.URL.Query().Get("body"))
	})
	d := m.driver(t, Config{}, srv)
	tests := []struct {
		name, body, path string
		code             int
		ack, class, err  string
	}{
		// a number id, as written
		{"number", `{"id": 42}`, "id", 201, "42", "", ""},
		// a big or fractional number keeps its text
		{"big number", `{"id": 12345678901234567890}`, "id", 201, "12345678901234567890", "", ""},
		// a string id
		{"string", `{"id": "ord-7", "status": "new"}`, "id", 200, "ord-7", "", ""},
		// a nested id
		{"nested", `{"data": {"id": 9}}`, "data.id", 200, "9", "", ""},
		// a success without the field: the write was not acknowledged
		{"missing", `{"status": "queued"}`, "id", 202, "", load.ClassOther, `no field "id"`},
		// null is no id
		{"null", `{"id": null}`, "id", 201, "", load.ClassOther, "field is null"},
		// an empty string is no id
		{"empty", `{"id": ""}`, "id", 201, "", load.ClassOther, `field is ""`},
		// not JSON at all
		{"not json", `created`, "id", 201, "", load.ClassOther, "not JSON"},
		// a failure keeps its own class; no ack is looked for
		{"503", `{"error": "busy"}`, "id", 503, "", load.ClassHTTP503, "503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := "?code=" + strconv.Itoa(tt.code) + "&body=" + urlEscape(tt.body)
			step := &load.Step{Name: "order", Ack: tt.path, HTTP: &load.HTTPRequest{Method: "POST", URL: srv.URL + "/" + q}}
			r := do(d, newVU(), step)
			if r.Ack != tt.ack || r.Class != tt.class {
				t.Fatalf("ack %q class %q (%v), want ack %q class %q", r.Ack, r.Class, r.Err, tt.ack, tt.class)
			}
			if tt.err != "" && (r.Err == nil || !strings.Contains(r.Err.Error(), tt.err)) {
				t.Fatalf("err %v, want it to say %q", r.Err, tt.err)
			}
			if r.BytesIn != int64(len(tt.body)) {
				t.Fatalf("BytesIn %d, want %d", r.BytesIn, len(tt.body))
			}
		})
	}
}

func urlEscape(s string) string {
	r := strings.NewReplacer("%", "%25", "&", "%26", "+", "%2B", " ", "%20", "#", "%23", `"`, "%22", "{", "%7B", "}", "%7D")
	return r.Replace(s)
}
