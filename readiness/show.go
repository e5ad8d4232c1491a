package readiness

import (
	"fmt"
	"math"
	"strconv"
)

// Show renders v, in the base unit of kind k, for a reader: "84ms",
// "0.4%", "312MB", "1,250/s (75,000/min)", "found".
func Show(k Kind, v float64) string {
	if math.IsInf(v, 1) {
		return "never"
	}
	switch k {
	case Duration:
		return showMS(v)
	case Ratio:
		return sig(v*100) + "%"
	case Bytes:
		return showBytes(v)
	case Rate:
		return sig(v) + "/s (" + sig(v*60) + "/min)"
	case ByteRate:
		return showBytes(v) + "/min"
	case Found:
		if v >= 1 {
			return "found"
		}
		return "not found"
	}
	return sig(v)
}

// showMS renders milliseconds.
func showMS(v float64) string {
	switch {
	case v >= 1000:
		return sig(v/1000) + "s"
	}
	return sig(v) + "ms"
}

// showBytes renders bytes in decimal units (those the bounds take).
func showBytes(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e9:
		return sig(v/1e9) + "GB"
	case a >= 1e6:
		return sig(v/1e6) + "MB"
	case a >= 1e3:
		return sig(v/1e3) + "KB"
	}
	return sig(v) + "B"
}

// sig renders v with three significant digits, whole numbers as they are.
func sig(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	a := math.Abs(v)
	switch {
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return fmt.Sprintf("%.3g", v)
}
