package slo

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/chaosload/chaosload/config"
)

// label names an aggregation as shown: p(95) is "p95".
func label(c config.Condition) string {
	if c.Agg == config.AggP {
		return "p" + strconv.FormatFloat(c.P, 'f', -1, 64)
	}
	return string(c.Agg)
}

// showValue renders a normalised value in the unit of th's condition.
func showValue(th config.Threshold, v float64) string {
	c := th.Cond
	switch {
	case c.Agg == config.AggCount:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case th.Metric.Kind == config.Trend:
		return showMillis(v)
	case th.Metric.Kind == config.Ratio && c.Unit != config.UnitPercent:
		return sig(v, 3)
	case th.Metric.Kind == config.Ratio:
		return sig(v*100, 3) + "%"
	case th.Metric.Kind == config.Counter:
		return sig(v, 3) + "/s"
	}
	return sig(v, 3)
}

// showMillis renders milliseconds: "340ms", "12.5ms", "2.35s".
func showMillis(ms float64) string {
	if math.Abs(ms) >= 1000 {
		return sig(ms/1000, 3) + "s"
	}
	return sig(ms, 3) + "ms"
}

// showOffset renders an offset in seconds for messages: "+30s", "+3.5s".
func showOffset(d time.Duration) string {
	return "+" + showSeconds(d)
}

// showSeconds renders a duration in seconds to the millisecond: "3.5s".
func showSeconds(d time.Duration) string {
	return strconv.FormatFloat(d.Round(time.Millisecond).Seconds(), 'f', -1, 64) + "s"
}

// sig renders v with about digits significant digits, never in exponent
// form, without trailing zeros: 340, 12.5, 0.412.
func sig(v float64, digits int) string {
	if v == 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	mag := int(math.Floor(math.Log10(math.Abs(v))))
	s := strconv.FormatFloat(v, 'f', max(digits-1-mag, 0), 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
