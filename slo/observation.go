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
	def, known := metrics.Defs[th.Metric.Name]
	if !known {
		return noData(Observation{}, "no data: "+th.Metric.Name+" is not recorded")
	}
	sel, part := SelectorOf(th.Metric), partOf(def.Quantity)
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
		return observeTrend(th, sel.Class, def.Quantity.Histogram(agg), obs)
	case config.Ratio:
		num := pop.Errors
		if sel.Class != "" {
			num = pop.ByClass[sel.Class]
		}
		return observeShare(th, num, pop, obs)
	case config.Counter:
		n := eventCount(th.Metric, def.Quantity, pop)
		if def.Quantity == metrics.Conns && sel.Class != "" {
			n = w.get(sel, 0).Conns // made by the results of that class
		}
		return observeCount(th, n, pop.Span, obs)
	}
	return noData(obs, "no data: "+th.Metric.Name+" is not recorded")
}

// observeTrend judges an aggregation of a duration histogram.
func observeTrend(th config.Threshold, class string, h *hdrhistogram.Histogram, obs Observation) Observation {
	if h.TotalCount() == 0 && th.Cond.Agg != config.AggCount {
		if class == "" {
			return noData(obs, "no data: nothing timed (dropped arrivals, WebSocket sessions and messages without a reply are not)")
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

// partOf returns the histogram a quantity is judged on; none for counts.
func partOf(q metrics.Quantity) parts {
	switch q {
	case metrics.Latency:
		return needLatency
	case metrics.ServiceTime:
		return needServiceTime
	case metrics.DispatchLag:
		return needDispatchLag
	}
	return 0
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

// eventCount counts the events of a counter metric: results (of one class
// when tagged), dropped arrivals, or connections established.
func eventCount(ref config.MetricRef, q metrics.Quantity, pop metrics.Aggregate) int64 {
	class := ref.Tag("class")
	switch q {
	case metrics.Dropped:
		if class != "" && class != load.ClassDropped {
			return 0
		}
		return pop.ByClass[load.ClassDropped]
	case metrics.Conns:
		return pop.Conns
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
