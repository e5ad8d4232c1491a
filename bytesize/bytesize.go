// Package bytesize reads and writes sizes in bytes as experiment files write
// them: 512, 512B, 64KB, 1.5MB, 1GB, 1TB (KB, MB, GB and TB are powers of
// 1000, as Toxiproxy's KB), 64KiB, 1MiB, 1GiB, 1TiB (powers of 1024). It is
// the one home of those units: fault sizes, a step's body size, the demo's
// disk, byte rates and byte thresholds all read them here.
//
// bytesize imports nothing of chaosload's; faults, load and config import it.
package bytesize

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Size is a whole, non-negative number of bytes.
type Size int64

// units are the units by the bytes in one, largest first: String takes the
// first that divides a size exactly.
var units = []struct {
	name  string
	bytes int64
}{
	{"TiB", 1 << 40}, {"TB", 1e12}, {"GiB", 1 << 30}, {"GB", 1e9}, {"MiB", 1 << 20}, {"MB", 1e6},
	{"KiB", 1 << 10}, {"KB", 1e3}, {"B", 1},
}

// Max is the largest Size Parse accepts (about 4.6 EB): larger, a size
// times a small count would overflow.
const Max = math.MaxInt64 / 2

// Unit returns the bytes in one unit ("KiB": 1024), false for a name that
// is not a unit. Names are exact ("kb" is not one).
func Unit(name string) (float64, bool) {
	for _, u := range units {
		if u.name == name {
			return float64(u.bytes), true
		}
	}
	return 0, false
}

// ParseAmount reads s, a number with an optional unit ("1.5KB", "512",
// " 64 KiB "), as a number of bytes that may be fractional (a byte rate's
// "0.5B"), and returns the unit as written ("" when there is none). The
// number is decimal, finite and non-negative.
func ParseAmount(s string) (bytes float64, unit string, err error) {
	num, unit, mult := split(s)
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) || strings.ContainsAny(num, "xXpP_") {
		return 0, "", fmt.Errorf("%q is not a size in bytes (e.g. 512B, 64KB, 1.5MB, 64KiB)", s)
	}
	return v * float64(mult), unit, nil
}

// split cuts s into its number and its unit, with the bytes in one unit
// (1 without a unit).
func split(s string) (num, unit string, mult int64) {
	t := strings.TrimSpace(s)
	for _, u := range units { // "B" last: "KiB" ends in "B" too
		if strings.HasSuffix(t, u.name) {
			return strings.TrimSpace(strings.TrimSuffix(t, u.name)), u.name, u.bytes
		}
	}
	return t, "", 1
}

// Parse reads s as a Size: ParseAmount's number of bytes, which must be
// whole and at most Max. A whole number is read exactly, however large.
func Parse(s string) (Size, error) {
	if num, _, mult := split(s); !strings.HasPrefix(num, "+") {
		if n, err := strconv.ParseUint(num, 10, 64); err == nil {
			if n > uint64(Max/mult) {
				return 0, tooLarge(s)
			}
			return Size(int64(n) * mult), nil
		}
	}
	n, _, err := ParseAmount(s)
	switch {
	case err != nil:
		return 0, err
	case n != math.Trunc(n):
		return 0, fmt.Errorf("%q is not a whole number of bytes", s)
	case n >= Max+1: // 2^62: exact in a float64, unlike Max
		return 0, tooLarge(s)
	}
	return Size(n), nil
}

func tooLarge(s string) error {
	return fmt.Errorf("%q is too large a size: at most %s", s, Size(Max))
}

// String renders the size with the largest unit that divides it exactly
// ("64KiB", "100MB", "1500B", "0B"), so that Parse reads it back as it
// was.
func (b Size) String() string {
	for _, u := range units {
		if b != 0 && int64(b)%u.bytes == 0 {
			return strconv.FormatInt(int64(b)/u.bytes, 10) + u.name
		}
	}
	return strconv.FormatInt(int64(b), 10) + "B"
}

// UnmarshalText implements encoding.TextUnmarshaler (Parse).
func (b *Size) UnmarshalText(text []byte) error {
	v, err := Parse(string(text))
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// MarshalText implements encoding.TextMarshaler (String).
func (b Size) MarshalText() ([]byte, error) { return []byte(b.String()), nil }
