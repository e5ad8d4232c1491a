package faults

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/chaosload/chaosload/bytesize"
)

// Percent is a share in [0, 1], written in a file as "50%" or as a fraction
// ("0.5").
type Percent float64

// UnmarshalText implements encoding.TextUnmarshaler.
func (p *Percent) UnmarshalText(b []byte) error {
	v, err := ParsePercent(string(b))
	if err != nil {
		return err
	}
	*p = Percent(v)
	return nil
}

// String renders the share as a percentage.
func (p Percent) String() string {
	return strconv.FormatFloat(float64(p)*100, 'f', -1, 64) + "%"
}

// ParsePercent parses "5%", "0.05" or "1" into a fraction.
func ParsePercent(s string) (float64, error) {
	t := strings.TrimSpace(s)
	scale := 1.0
	if strings.HasSuffix(t, "%") {
		t, scale = strings.TrimSpace(strings.TrimSuffix(t, "%")), 0.01
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a percentage (e.g. 5%% or 0.05)", s)
	}
	return v * scale, nil
}

// Rate is the rate of a fault: a byte rate for bandwidth ("64KB/s",
// "1MiB/s", "500B/s") or a share for loss ("5%", "0.5%"). Exactly one of
// its fields is non-zero once decoded; the zero Rate means "not set".
type Rate struct {
	// PerSecond is a byte rate in bytes per second.
	PerSecond float64
	// Share is a share in (0, 1].
	Share float64
}

// IsZero reports whether the rate is unset.
func (r Rate) IsZero() bool { return r.PerSecond == 0 && r.Share == 0 }

// String renders the rate as it is written in a file.
func (r Rate) String() string {
	if r.Share != 0 {
		return Percent(r.Share).String()
	}
	if n := r.PerSecond; n == math.Trunc(n) && n <= bytesize.Max {
		return bytesize.Size(n).String() + "/s"
	}
	return strconv.FormatFloat(r.PerSecond, 'f', -1, 64) + "B/s"
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (r *Rate) UnmarshalText(text []byte) error {
	v, err := ParseRate(string(text))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (r Rate) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// ParseRate parses a byte rate ("64KB/s") or a percentage ("5%"). A bare
// number is refused: it would be ambiguous.
func ParseRate(s string) (Rate, error) {
	t := strings.TrimSpace(s)
	switch {
	case strings.HasSuffix(t, "%"):
		v, err := ParsePercent(t)
		if err != nil || v <= 0 || v > 1 {
			return Rate{}, fmt.Errorf("%q is not a share above 0%% and up to 100%% (e.g. 5%%)", s)
		}
		return Rate{Share: v}, nil
	case strings.HasSuffix(t, "/s"):
		n, err := parseBytesPerSecond(strings.TrimSuffix(t, "/s"))
		if err != nil || n <= 0 {
			return Rate{}, fmt.Errorf("%q is not a positive byte rate (e.g. 64KB/s, 1MB/s, 500B/s)", s)
		}
		return Rate{PerSecond: n}, nil
	}
	return Rate{}, fmt.Errorf("%q has no unit: write a byte rate such as 64KB/s (bandwidth) or a share such as 5%% (loss)", s)
}

// parseBytesPerSecond parses the size part of a byte rate, which may be
// fractional ("1.5KB") and must have a unit.
func parseBytesPerSecond(s string) (float64, error) {
	n, unit, err := bytesize.ParseAmount(s)
	if err != nil {
		return 0, err
	}
	if unit == "" {
		return 0, fmt.Errorf("bad byte rate %q: no unit", s)
	}
	return n, nil
}
