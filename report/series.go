package report

import (
	"fmt"
	"math"
	"sort"

	"github.com/chaosload/chaosload/runner"
)

// maxPoints caps the points of a chart: longer runs merge consecutive
// intervals (counts add, percentiles and VUs take the highest) so the file
// stays small and a spike never disappears in the merge.
const maxPoints = 1200

// bucket is one plotted point: one or more consecutive intervals merged.
type bucket struct {
	runner.Interval
	// width is the time the bucket covers, in seconds.
	width float64
}

// buckets merges the outcome's intervals into at most maxPoints buckets.
func buckets(o *runner.Outcome) []bucket {
	ivs := o.Intervals
	dt := o.IntervalS
	if dt <= 0 {
		dt = 0.25
	}
	k := max(1, (len(ivs)+maxPoints-1)/maxPoints)
	var out []bucket
	for i := 0; i < len(ivs); i += k {
		b := bucket{Interval: runner.Interval{TS: ivs[i].TS}, width: dt * float64(min(k, len(ivs)-i))}
		for _, iv := range ivs[i:min(i+k, len(ivs))] {
			mergeInterval(&b.Interval, iv)
		}
		out = append(out, b)
	}
	return out
}

func mergeInterval(dst *runner.Interval, iv runner.Interval) {
	dst.Ops += iv.Ops
	dst.Errors += iv.Errors
	dst.Arrivals += iv.Arrivals
	dst.P50MS, dst.P95MS, dst.P99MS = max(dst.P50MS, iv.P50MS), max(dst.P95MS, iv.P95MS), max(dst.P99MS, iv.P99MS)
	dst.VUs, dst.BusyVUs = max(dst.VUs, iv.VUs), max(dst.BusyVUs, iv.BusyVUs)
	for c, n := range iv.ByClass {
		if dst.ByClass == nil {
			dst.ByClass = map[string]int64{}
		}
		dst.ByClass[c] += n
	}
	for name, v := range iv.Resources {
		if dst.Resources == nil {
			dst.Resources = map[string]float64{}
		}
		dst.Resources[name] = max(dst.Resources[name], v)
	}
}

// The colours of the series. Each is used by one series only, so a test can
// find a series in a screenshot by its colour.
var (
	colP50, colP95, colP99  = "#1f77b4", "#ff7f0e", "#d62728"
	colOps, colOK           = "#2ca02c", "#17becf"
	colVUs, colBusy, colArr = "#8c6d31", "#e7ba52", "#843c39"
	classColors             = map[string]string{
		"http_503": "#e377c2", "http_5xx": "#8c564b", "http_4xx": "#bcbd22", "http_429": "#dbdb8d", "timeout": "#9467bd",
		"conn_refused": "#7f7f7f", "conn_reset": "#393b79", "dropped": "#637939", "error": "#ad494a",
	}
	extraColors    = []string{"#6b6ecf", "#b5cf6b", "#cedb9c", "#e7969c", "#de9ed6", "#a55194", "#9c9ede", "#8ca252"}
	resourceColors = []string{"#5254a3", "#7b4173", "#637939", "#bd9e39"}
)

// charts builds the report's time-series charts from o.
func charts(o *runner.Outcome) []*chart {
	bs := buckets(o)
	x := make([]float64, len(bs))
	for i, b := range bs {
		x[i] = b.TS + b.width/2
	}
	out := []*chart{latencyChart(bs), throughputChart(bs), errorsChart(bs), loadChart(bs)}
	out = append(out, resourceCharts(bs)...)
	for _, c := range out {
		c.X = x
	}
	return append(out, shareCharts(o)...) // on the traffic samples' own times
}

// column builds one series' values from each bucket.
func column(bs []bucket, v func(b bucket) float64) []float64 {
	ys := make([]float64, len(bs))
	for i, b := range bs {
		ys[i] = v(b)
	}
	return ys
}

// timed reports whether any operation in b ran (and so has latencies).
func timed(b bucket) bool { return b.P50MS > 0 || b.P95MS > 0 || b.P99MS > 0 }

func latencyChart(bs []bucket) *chart {
	pick := func(get func(b bucket) float64) []float64 {
		return column(bs, func(b bucket) float64 {
			if !timed(b) {
				return math.NaN()
			}
			return get(b)
		})
	}
	return &chart{
		ID: "latency", Title: "Latency (intended start → completion)", Unit: "ms", Format: fmtAxisMS,
		Empty: "no operation completed",
		Series: []series{
			{"p50", colP50, pick(func(b bucket) float64 { return b.P50MS })},
			{"p95", colP95, pick(func(b bucket) float64 { return b.P95MS })},
			{"p99", colP99, pick(func(b bucket) float64 { return b.P99MS })},
		},
	}
}

func throughputChart(bs []bucket) *chart {
	return &chart{
		ID: "throughput", Title: "Throughput", Unit: "ops/s", Format: fmtRate, Empty: "no operations",
		Series: []series{
			{"all ops/s", colOps, column(bs, func(b bucket) float64 { return float64(b.Ops) / b.width })},
			{"ok ops/s", colOK, column(bs, func(b bucket) float64 { return float64(b.Ops-b.Errors) / b.width })},
		},
	}
}

// errorsChart stacks errors per second by class, the classes in name order.
func errorsChart(bs []bucket) *chart {
	seen := map[string]bool{}
	for _, b := range bs {
		for c := range b.ByClass {
			seen[c] = true
		}
	}
	classes := sortedKeys(seen)
	c := &chart{ID: "errors", Title: "Errors by class", Unit: "errors/s", Format: fmtRate, Stacked: true, Empty: "no errors"}
	for i, class := range classes {
		col, ok := classColors[class]
		if !ok {
			col = extraColors[i%len(extraColors)]
		}
		c.Series = append(c.Series, series{class, col, column(bs, func(b bucket) float64 {
			return float64(b.ByClass[class]) / b.width
		})})
	}
	return c
}

func loadChart(bs []bucket) *chart {
	return &chart{
		ID: "load", Title: "VUs and arrival rate", Unit: "VUs · arrivals/s", Format: fmtCount, Empty: "no load",
		Series: []series{
			{"VUs", colVUs, column(bs, func(b bucket) float64 { return float64(b.VUs) })},
			{"busy VUs", colBusy, column(bs, func(b bucket) float64 { return float64(b.BusyVUs) })},
			{"arrivals/s", colArr, column(bs, func(b bucket) float64 { return float64(b.Arrivals) / b.width })},
		},
	}
}

// resourceCharts draws one chart per monitored gauge of the target (none
// when the target was not monitored).
func resourceCharts(bs []bucket) []*chart {
	names := map[string]bool{}
	for _, b := range bs {
		for n := range b.Resources {
			names[n] = true
		}
	}
	var out []*chart
	for i, name := range sortedKeys(names) {
		title, unit, format := resourceLabel(name)
		ys := column(bs, func(b bucket) float64 {
			if v, ok := b.Resources[name]; ok {
				return v
			}
			return math.NaN()
		})
		out = append(out, &chart{
			ID: "resource-" + name, Title: title, Unit: unit, Format: format, Empty: "no samples",
			Series: []series{{name, resourceColors[i%len(resourceColors)], ys}},
		})
	}
	return out
}

func resourceLabel(name string) (title, unit string, format func(float64) string) {
	switch name {
	case "target_cpu":
		return "Target CPU", "% of one core", fmtPercent
	case "target_rss":
		return "Target memory (RSS)", "bytes", fmtBytes
	case "target_fds":
		return "Target open file descriptors", "fds", fmtCount
	}
	return "Target " + name, "", fmtCount
}

// frameOf is the time axis and the marks every chart shares.
func frameOf(o *runner.Outcome) frame {
	fr := frame{To: o.DurationS}
	if n := len(o.Intervals); n > 0 {
		fr.To = max(fr.To, o.Intervals[n-1].TS+o.IntervalS)
	}
	if fr.To <= 0 {
		fr.To = 1
	}
	for _, ft := range o.Faults {
		if ft.AppliedS == nil {
			continue
		}
		b := faultBand{Name: ft.Name, From: *ft.AppliedS, To: fr.To, Unreverted: true}
		if ft.RevertedS != nil && ft.Error == "" {
			b.To, b.Unreverted = *ft.RevertedS, false
		}
		fr.Faults = append(fr.Faults, b)
	}
	sort.SliceStable(fr.Faults, func(i, j int) bool { return fr.Faults[i].From < fr.Faults[j].From })
	rs := recoveries(o)
	for _, lr := range rs {
		r := lr.R
		m := recoveryMark{FaultEnd: r.FaultEndS, Bound: r.FaultEndS + r.WithinS, Within: r.WithinS}
		if len(rs) > 1 {
			m.Label = fmt.Sprintf("#%d ", lr.Episode)
		}
		if r.MeasuredS != nil {
			at := r.FaultEndS + *r.MeasuredS
			m.At, m.Measured, m.Late = &at, *r.MeasuredS, !r.Passed
		}
		fr.Recoveries = append(fr.Recoveries, m)
	}
	return fr
}
