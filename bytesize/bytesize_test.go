package bytesize

import (
	"strings"
	"testing"
)

// TestParse: what the three former parsers (fault sizes, a step's body
// size, the demo's disk) accepted parses to the same bytes; what none
// accepted is refused with what would be right.
func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Size
		err  string // "" = valid
	}{
		{"512", 512, ""},                  // a bare number is bytes
		{"512B", 512, ""},                 // an explicit B
		{"64KB", 64_000, ""},              // KB, MB, GB: powers of 1000, as Toxiproxy's KB
		{"100MB", 100_000_000, ""},        // ...
		{"1GB", 1_000_000_000, ""},        // ...
		{"64KiB", 64 << 10, ""},           // KiB, MiB, GiB: powers of 1024
		{"1MiB", 1 << 20, ""},             // ...
		{"1GiB", 1 << 30, ""},             // ...
		{"1TiB", 1 << 40, ""},             // ...
		{"2TB", 2e12, ""},                 // TB: as the fault reference writes 1TB/s
		{"1.5KB", 1500, ""},               // a fraction that makes whole bytes
		{"1.5KiB", 1536, ""},              // ...
		{" 64 KiB ", 64 << 10, ""},        // spaces around and before the unit
		{"1000.0", 1000, ""},              // a whole number written with a fraction
		{"1e6", 1_000_000, ""},            // an exponent (the body size's parser took it)
		{"0", 0, ""},                      // nothing
		{"1.5B", 0, "not a whole number"}, // half a byte
		{"1.0001KB", 0, "not a whole number"},
		{"-1MB", 0, "not a size"},   // negative
		{"-1", 0, "not a size"},     // ...
		{"ten", 0, "not a size"},    // not a number
		{"", 0, "not a size"},       // nothing written
		{"5PB", 0, "not a size"},    // an unknown unit
		{"64kb", 0, "not a size"},   // units are exact
		{"5%", 0, "not a size"},     // a share is not a size
		{"64KB/s", 0, "not a size"}, // nor is a rate
		{"0x10", 0, "not a size"},   // decimal only
		{"Inf", 0, "not a size"},    // finite only
		{"NaN", 0, "not a size"},    // ...
		{"99999999999999999GB", 0, "too large"},
	}
	for _, tc := range tests {
		got, err := Parse(tc.in)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("Parse(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("Parse(%q) = %d, %v; want an error saying %q", tc.in, got, err, tc.err)
		}
	}
}

// TestStringRoundTrip: String writes the largest unit that divides a size
// exactly, and Parse reads back the same size.
func TestStringRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   Size
		want string
	}{
		{0, "0B"},                     // nothing (a game-day fault detail drops "0B")
		{1, "1B"},                     // one byte
		{1500, "1500B"},               // neither 1000 nor 1024 divides it
		{64_000, "64KB"},              // a decimal unit
		{65_536, "64KiB"},             // a binary unit
		{1_024_000, "1000KiB"},        // both divide: the larger unit
		{100_000_000, "100MB"},        // MB
		{32 << 20, "32MiB"},           // MiB
		{1 << 30, "1GiB"},             // GiB
		{3_000_000_000, "3GB"},        // GB
		{1 << 40, "1TiB"},             // TiB
		{1e12, "1TB"},                 // TB
		{1 << 50, "1024TiB"},          // no unit above TiB
		{Max, "4611686018427387903B"}, // the largest
	}
	for _, tc := range tests {
		s := tc.in.String()
		if s != tc.want {
			t.Errorf("Size(%d).String() = %q, want %q", tc.in, s, tc.want)
		}
		back, err := Parse(s)
		if err != nil || back != tc.in {
			t.Errorf("Parse(%q) = %d, %v; want %d back", s, back, err, tc.in)
		}
		var u Size
		if txt, _ := tc.in.MarshalText(); u.UnmarshalText(txt) != nil || u != tc.in {
			t.Errorf("text round trip of %d: %q → %d", tc.in, txt, u)
		}
	}
}

// TestParseAmount: a fractional amount (a byte rate's) and the unit as
// written.
func TestParseAmount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want float64
		unit string
	}{
		{"0.5B", 0.5, "B"},       // half a byte a second is a rate
		{"1.5KB", 1500, "KB"},    // decimal
		{"2MiB", 2 << 20, "MiB"}, // binary
		{"64", 64, ""},           // no unit
	}
	for _, tc := range tests {
		n, unit, err := ParseAmount(tc.in)
		if err != nil || n != tc.want || unit != tc.unit {
			t.Errorf("ParseAmount(%q) = %v, %q, %v; want %v, %q", tc.in, n, unit, err, tc.want, tc.unit)
		}
	}
	if b, ok := Unit("KiB"); !ok || b != 1024 {
		t.Errorf("Unit(KiB) = %v, %v", b, ok)
	}
	if _, ok := Unit("kb"); ok {
		t.Error("Unit(kb): want no such unit")
	}
}

// FuzzParse: whatever Parse accepts, String writes so that Parse reads the
// same size back.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"512", "64KB", "1.5KiB", "1e6", " 2 GB ", "0.5B", "99999999999999999GB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s)
		if err != nil {
			return
		}
		if n < 0 || n > Max {
			t.Fatalf("Parse(%q) = %d: out of [0, Max]", s, n)
		}
		if back, err := Parse(n.String()); err != nil || back != n {
			t.Fatalf("Parse(%q) = %d; Parse(%q) = %d, %v", s, n, n.String(), back, err)
		}
	})
}
