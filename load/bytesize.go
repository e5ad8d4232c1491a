package load

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ByteSize is a size in bytes, written with a unit: 512, 64KB, 100MB, 1GiB
// (KB, MB, GB are powers of 1000; KiB, MiB, GiB of 1024), as the threshold
// grammar writes byte sizes.
type ByteSize int64

var byteUnits = []struct {
	suffix string
	mult   float64
}{ // longest suffixes first, so "KiB" is not read as "B"
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1},
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (b *ByteSize) UnmarshalText(text []byte) error {
	s := strings.TrimSpace(string(text))
	mult := 1.0
	for _, u := range byteUnits {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	n := f * mult
	if err != nil || f < 0 || math.IsNaN(n) || n > math.MaxInt64/2 || n != math.Trunc(n) {
		return fmt.Errorf("%q is not a size in bytes (e.g. 512, 64KB, 100MB, 1GiB)", string(text))
	}
	*b = ByteSize(n)
	return nil
}

// String renders the size with the largest decimal unit that divides it.
func (b ByteSize) String() string {
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}} {
		if b >= ByteSize(u.mult) && int64(b)%u.mult == 0 {
			return strconv.FormatInt(int64(b)/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(b), 10) + "B"
}
