package metrics

import "time"

// view says which stored timing fills each histogram slot of an Aggregate
// (Latency, ServiceTime, DispatchLag).
type view [slots]int

// slots is the number of histograms an Aggregate holds.
const slots = 3

var (
	// asMeasured is the recorder as measured.
	asMeasured = view{timeLatency, timeService, timeLag}
	// lessLateness fills Latency and DispatchLag less the generator's own
	// lateness; service time has none of it.
	lessLateness = view{timeNetLatency, timeService, timeNetLag}
)

// WithoutLateness is a view of a Recorder in which every result's latency
// and dispatch lag are less the generator's own lateness
// (load.Result.OwnLateness): what the run would have measured had the
// generator handed every operation on at its intended start. Its windows
// are exact merges like the Recorder's, its counts the same; only the
// Latency and DispatchLag histograms differ. Judging a check on both tells
// whether the generator could have changed its result.
type WithoutLateness struct{ r *Recorder }

// WithoutLateness returns the view of r less the generator's own lateness.
func (r *Recorder) WithoutLateness() WithoutLateness { return WithoutLateness{r} }

// Window is Recorder.Window, less lateness.
func (w WithoutLateness) Window(from, to time.Duration, sel Selector) Aggregate {
	agg := Aggregate{Latency: NewHistogram(), ServiceTime: NewHistogram(), DispatchLag: NewHistogram()}
	w.r.windowInto(&agg, from, to, sel, lessLateness)
	return agg
}

// WindowInto is Recorder.WindowInto, less lateness.
func (w WithoutLateness) WindowInto(agg *Aggregate, from, to time.Duration, sel Selector) {
	w.r.windowInto(agg, from, to, sel, lessLateness)
}

// Interval is Recorder.Interval.
func (w WithoutLateness) Interval() time.Duration { return w.r.interval }
