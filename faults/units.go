package faults

import (
	"fmt"
	"strconv"
	"strings"
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
