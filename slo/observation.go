package slo

import (
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/metrics"
)

// Observation is a threshold evaluated over one window.
type Observation struct {
	// Value is what was observed, normalised like config.Condition.Value:
	// milliseconds for durations, a fraction for a rate of errors, per
	// second for a rate of events, a plain number for counts. Percentiles,
	// min and max are the highest value of their HDR bucket: at most 0.1%
	// above the exact value, never below it, so rounding never passes an
	// upper bound.
	Value float64
	// NoData is set when the window held no operations for the metric's
	// tags (its class aside): nothing shows the service was healthy, so the
	// threshold fails.
	NoData bool
	// Pass says whether the condition held. It is false whenever NoData is
	// set, and true when a class-tagged trend had no results of that class
	// (`latency{class:timeout}: p(95) < 2s` with no timeouts holds).
	Pass bool
	// Ops is the number of operations behind the value: those matching the
	// metric's tags, class aside.
	Ops int64
	// Label names the aggregation as shown: "p95", "avg", "rate", "count".
	Label string
	// Shown is Value in the condition's unit ("340ms", "12.5% (25/200)",
	// "450/s", "3"), or why there is no value ("no data").
	Shown string
}

// String renders the observation: "p95 = 340ms", "no data".
func (o Observation) String() string {
	if o.Label == "" {
		return o.Shown
	}
	return o.Label + " = " + o.Shown
}

// Evaluate evaluates th over the window [from, to) of src.
func Evaluate(src Source, th config.Threshold, from, to time.Duration) Observation {
	return newWindowSet(src, from, to, nil).evaluate(th)
}

// evaluate evaluates th over the window.
func (w *windowSet) evaluate(th config.Threshold) Observation {
	sel, part := SelectorOf(th.Metric), partOf(th.Metric)
	popPart := part
	if sel.Class != "" {
		popPart = 0 // the class's own aggregate holds the histogram
	}
	pop := w.get(sel.WithoutClass(), popPart)
	obs := Observation{Ops: pop.Ops, Label: label(th.Cond)}
	if pop.Ops == 0 {
		return noData(obs, "no data")
	}
	switch th.Metric.Kind {
	case config.Trend:
		agg := pop
		if sel.Class != "" {
			agg = w.get(sel, part)
		}
		return observeTrend(th, sel.Class, agg, obs)
	case config.Ratio:
		num := pop.Errors
		if sel.Class != "" {
			num = pop.ByClass[sel.Class]
		}
		return observeShare(th, num, pop, obs)
	case config.Counter:
		return observeCount(th, eventCount(th.Metric, pop), pop.Span, obs)
	}
	return noData(obs, "no data: "+th.Metric.Name+" is not recorded")
}

// observeTrend judges an aggregation of a duration histogram.
func observeTrend(th config.Threshold, class string, agg metrics.Aggregate, obs Observation) Observation {
	h := histogram(th.Metric.Name, agg)
	if h.TotalCount() == 0 && th.Cond.Agg != config.AggCount {
		if class == "" {
			return noData(obs, "no data: no operation ran (all dropped)")
		}
		// Nothing of this class happened: a bound on it holds vacuously.
		obs.Label, obs.Shown, obs.Pass = "", "no "+class+" results", true
		return obs
	}
	obs.Value = trendValue(th.Cond, h)
	return judged(th.Cond, obs, showValue(th, obs.Value))
}

// trendValue is the aggregation of h in milliseconds (a count for count).
func trendValue(c config.Condition, h *hdrhistogram.Histogram) float64 {
	us := func(v int64) float64 { return float64(v) / 1000 }
	switch c.Agg {
	case config.AggP:
		return us(h.ValueAtQuantile(c.P))
	case config.AggMed:
		return us(h.ValueAtQuantile(50))
	case config.AggAvg:
		return h.Mean() / 1000
	case config.AggMin:
		return us(h.Min())
	case config.AggMax:
		return us(h.Max())
	}
	return float64(h.TotalCount())
}

// histogram returns the histogram of a trend metric.
func histogram(name string, agg metrics.Aggregate) *hdrhistogram.Histogram {
	switch name {
	case "service_time":
		return agg.ServiceTime
	case "dispatch_lag":
		return agg.DispatchLag
	}
	return agg.Latency
}

// partOf returns the histogram a metric is judged on; none for counts.
func partOf(ref config.MetricRef) parts {
	if ref.Kind != config.Trend {
		return 0
	}
	switch ref.Name {
	case "service_time":
		return needServiceTime
	case "dispatch_lag":
		return needDispatchLag
	}
	return needLatency
}

// observeShare judges a share of operations: rate = num/ops, count = num.
func observeShare(th config.Threshold, num int64, pop metrics.Aggregate, obs Observation) Observation {
	if th.Cond.Agg == config.AggCount {
		obs.Value = float64(num)
		return judged(th.Cond, obs, showValue(th, obs.Value))
	}
	obs.Value = float64(num) / float64(pop.Ops)
	return judged(th.Cond, obs, showValue(th, obs.Value)+" ("+itoa(num)+"/"+itoa(pop.Ops)+")")
}

// observeCount judges a count of events, or its rate per second of span.
func observeCount(th config.Threshold, n int64, span time.Duration, obs Observation) Observation {
	obs.Value = float64(n)
	if th.Cond.Agg == config.AggRate {
		obs.Value = float64(n) / span.Seconds()
	}
	return judged(th.Cond, obs, showValue(th, obs.Value))
}

// eventCount counts the events of a counter metric: ops (of one class when
// tagged) or dropped arrivals.
func eventCount(ref config.MetricRef, pop metrics.Aggregate) int64 {
	class := ref.Tag("class")
	if ref.Name == "dropped" {
		if class != "" && class != load.ClassDropped {
			return 0
		}
		return pop.ByClass[load.ClassDropped]
	}
	if class != "" {
		return pop.ByClass[class]
	}
	return pop.Ops
}

func judged(c config.Condition, obs Observation, shown string) Observation {
	obs.Shown, obs.Pass = shown, c.Holds(obs.Value)
	return obs
}

func noData(obs Observation, why string) Observation {
	obs.NoData, obs.Pass, obs.Label, obs.Shown = true, false, "", why
	return obs
}
