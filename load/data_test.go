package load

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadData(t *testing.T) {
	t.Parallel()
	d, err := ReadData(strings.NewReader("\ufeffuser, pass\nann,\"a,1\"\nbob,b2\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !equal(d.Columns(), []string{"user", "pass"}) || d.Len() != 2 {
		t.Fatalf("columns %v, %d rows", d.Columns(), d.Len())
	}
	vu := newVU(1, &Scenario{}, Clock{}, 1, 0)
	vu.UseData(d, 0)
	if v, _ := vu.Row("pass"); v != "a,1" {
		t.Errorf("pass = %q, want a quoted field", v)
	}
	if _, ok := vu.Row("nope"); ok {
		t.Error("an unknown column has a value")
	}
	tests := []struct{ in, err string }{
		{"", "empty"},                       // no header
		{"user\n", "no rows"},               // a header alone
		{"user,user\na,b\n", "named twice"}, // duplicate column
		{"a b\nx\n", "want a name"},         // a column name with a space
		{"a,b\nx\n", "wrong number"},        // a short row
	}
	for _, tt := range tests {
		if _, err := ReadData(strings.NewReader(tt.in)); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("ReadData(%q) error %v, want %q", tt.in, err, tt.err)
		}
	}
	path := filepath.Join(t.TempDir(), "u.csv")
	if err := os.WriteFile(path, []byte("a\n1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if d, err := ReadDataFile(path); err != nil || d.Len() != 1 {
		t.Errorf("ReadDataFile: %v", err)
	}
}
