package readiness

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/chaosload/chaosload/runner"
)

// Measurement is one figure a run gave for a criterion's metric.
type Measurement struct {
	// Run is the experiment that measured it.
	Run string
	// Value is in the metric kind's base unit (+Inf: never, e.g. not
	// recovered).
	Value float64
	// Figure says where the value comes from, for the reader ("p95 of
	// phase baseline", "episode 1 (pg-down)").
	Figure string
}

// metric is one thing a criterion can measure.
type metric struct {
	Kind Kind
	// Best judges the best of the runs' measurements (a capability shown
	// once is shown: users held, throughput); otherwise the worst decides
	// (latency, errors, resources, recovery).
	Best bool
	// Doc says what is measured, for the README and `--criteria` errors.
	Doc string
	// measure returns what one run measured; none when the run did not
	// measure it.
	measure func(o *runner.Outcome) []Measurement
}

// thresholdPrefix makes a metric of any threshold of the runs:
// "threshold:ws_msgs" is the value of every check of a ws_msgs threshold.
const thresholdPrefix = "threshold:"

// metrics is the closed set of metrics a criterion can name.
var metrics = map[string]metric{
	"users_held":            {Count, true, "the most concurrent users a run held: a stress run's capacity (unit vus), or the peak VUs of a closed-model run that passed (0 when it failed)", usersHeld},
	"p95_ms":                {Duration, false, "p95 latency of each steady-state phase (baseline, steady)", steadyP95},
	"error_rate":            {Ratio, false, "the error rate of each steady-state phase (baseline, steady)", steadyErrors},
	"cpu_share":             {Ratio, false, "the monitored processes' peak CPU as a share of the machine's cores", cpuShare},
	"rss_peak":              {Bytes, false, "the monitored processes' peak resident memory, summed", rssPeak},
	"rss_slope":             {ByteRate, false, "the monitored memory's trend over a run of at least a minute (least squares, bytes per minute; a shorter run's trend is start-up growth)", rssSlope},
	"memory_trend":          {ByteRate, false, "the monitored processes' private memory (RSS less shared pages) trend after the warm-up, fitted over at least a minute (least squares, bytes per minute; monitor.trend keeps that under --quick)", memoryTrend},
	"sustained":             {Duration, true, "how long a run's load ran, when the run passed (0 when it failed)", sustained},
	"requests_rate":         {Rate, true, "operations that succeeded per second in a steady-state phase", okRate},
	"operating_point_p95":   {Duration, false, "p95 latency measured at the operating point (80% of a stress run's capacity)", operatingP95},
	"stress_users":          {Count, true, "the highest level a stress run (unit vus) reached", stressUsers},
	"breaking_point":        {Found, true, "whether a stress run found the level at which a threshold broke", breakingPoint},
	"fault_recovery":        {Duration, false, "the recovery time of every fault episode (never: not recovered within its bound)", faultRecovery},
	"overload_recovery":     {Duration, false, "the recovery time after a stress run's overload", overloadRecovery},
	"consistency":           {Ratio, false, "the share of acknowledged writes found afterwards (verify), per verify", consistency},
	"degradation_failures":  {Count, false, "degradation checks that failed while faults were in effect, per run", degradationFailures},
	"probe_ok":              {Ratio, false, "the share of a probe's attempts that succeeded (monitoring stays functional)", probeOK},
	"peak_vus":              {Count, true, "the peak VUs of a run (each WebSocket VU holds one connection)", peakVUs},
	"transfer_bytes":        {Bytes, true, "the body one operation of an HTTP step sent (bodySize), for a step with an operation that succeeded", transferBytes},
	"ok_ops":                {Count, true, "operations that succeeded in one run", okOps},
	"queued_commands":       {Count, true, "the commands one operation of a Redis step carried (its pipeline times its repeat), for a step with an operation that succeeded", queuedCommands},
	"baseline_regressions":  {Count, false, "metrics that regressed beyond --max-regression, per run compared with a baseline: --baseline, or without it the suite's own baseline run (a --suite with performance runs its first performance experiment again and compares)", regressions},
	thresholdPrefix + "KEY": {AnyKind, false, "every check of the threshold KEY (e.g. threshold:ws_msgs, threshold:conn_rate): its observed value", nil},
}

// lookupMetric finds a metric by name, threshold:KEY included.
func lookupMetric(name string) (metric, bool) {
	if key, ok := strings.CutPrefix(name, thresholdPrefix); ok && key != "" && key != "KEY" {
		return metric{Kind: AnyKind, measure: func(o *runner.Outcome) []Measurement { return thresholdValues(o, key) }}, true
	}
	m, ok := metrics[name]
	return m, ok && m.measure != nil
}

// MetricNames lists the metrics a criterion can name, sorted.
func MetricNames() []string {
	names := make([]string, 0, len(metrics))
	for n := range metrics {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// MetricDoc says what a metric measures ("" for an unknown one).
func MetricDoc(name string) string { return metrics[name].Doc }

// steadyPhase reports whether a phase is judged on the steady-state
// thresholds.
func steadyPhase(p runner.Phase) bool { return p.Name == "baseline" || p.Name == "steady" }

func phaseName(p runner.Phase) string {
	if p.Episode > 0 {
		return fmt.Sprintf("phase %s #%d", p.Name, p.Episode)
	}
	return "phase " + p.Name
}

func one(o *runner.Outcome, v float64, format string, args ...any) []Measurement {
	return []Measurement{{Run: o.Experiment, Value: v, Figure: fmt.Sprintf(format, args...)}}
}

func usersHeld(o *runner.Outcome) []Measurement {
	if s := o.Stress; s != nil {
		if s.Unit != "vus" {
			return nil
		}
		if s.Capacity == nil {
			return one(o, 0, "stress capacity: the first level (%g users) already broke", s.From)
		}
		return one(o, *s.Capacity, "stress capacity (last level that held)")
	}
	vus := maxVUs(o)
	if vus == 0 || !closedModel(o) {
		return nil
	}
	if o.Verdict != runner.Passed {
		return one(o, 0, "peak %d users, but the run %s", vus, o.Verdict)
	}
	return one(o, float64(vus), "peak VUs of a run that passed")
}

// closedModel reports whether every scenario of a run is a closed model
// (VUs with think time), whose VUs are users; an open model's VUs are
// workers serving an arrival rate.
func closedModel(o *runner.Outcome) bool { return o.Generator == nil || len(o.Generator.Offered) == 0 }

func maxVUs(o *runner.Outcome) int64 {
	var n int64
	for _, iv := range o.Intervals {
		n = max(n, iv.VUs)
	}
	return n
}

func steadyP95(o *runner.Outcome) []Measurement {
	var out []Measurement
	for _, p := range o.Phases {
		if steadyPhase(p) && p.Ops > p.Dropped {
			out = append(out, Measurement{o.Experiment, p.P95MS, "p95 of " + phaseName(p)})
		}
	}
	return out
}

func steadyErrors(o *runner.Outcome) []Measurement {
	var out []Measurement
	for _, p := range o.Phases {
		if steadyPhase(p) && p.Ops > 0 {
			out = append(out, Measurement{o.Experiment, float64(p.Errors) / float64(p.Ops),
				fmt.Sprintf("%d errors of %d operations in %s", p.Errors, p.Ops, phaseName(p))})
		}
	}
	return out
}

func cpuShare(o *runner.Outcome) []Measurement {
	if o.Resources == nil || o.Generator == nil || o.Generator.Cores == 0 {
		return nil
	}
	c := o.Generator.Cores
	return one(o, o.Resources.CPUPeak/100/float64(c), "peak CPU %s%% of one core, on %d cores", sig(o.Resources.CPUPeak), c)
}

func rssPeak(o *runner.Outcome) []Measurement {
	if o.Resources == nil || o.Resources.Samples == 0 {
		return nil
	}
	return one(o, o.Resources.RSSPeak, "peak RSS of %s", monitored(o.Resources))
}

// monitored names the monitored processes.
func monitored(r *runner.Resources) string {
	var names []string
	for _, p := range r.Processes {
		names = append(names, or(p.Name, fmt.Sprint("pid ", p.PID)))
	}
	if len(names) == 0 {
		return "the monitored processes"
	}
	return strings.Join(names, "+")
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// MinTrendS is how long a run (rss_slope), or the span after its warm-up
// (memory_trend), must be for its memory trend to count: over a shorter
// one the trend is the start-up's growth (caches filling, pools opening),
// not a leak.
const MinTrendS = 60

func rssSlope(o *runner.Outcome) []Measurement {
	if o.Resources == nil || o.Resources.RSSSlope == nil || o.DurationS < MinTrendS {
		return nil
	}
	return one(o, *o.Resources.RSSSlope, "RSS trend over %s s", sig(o.DurationS))
}

// memoryTrend is the private memory's trend after the warm-up, when it was
// fitted over at least MinTrendS.
func memoryTrend(o *runner.Outcome) []Measurement {
	r := o.Resources
	if r == nil || r.PrivateSlope == nil || r.TrendToS-r.TrendFromS < MinTrendS {
		return nil
	}
	return one(o, *r.PrivateSlope, "private memory (RSS less shared pages) of %s from %ss to %ss, after the warm-up",
		monitored(r), sig(r.TrendFromS), sig(r.TrendToS))
}

func sustained(o *runner.Outcome) []Measurement {
	if o.DurationS == 0 || o.Stress != nil {
		return nil
	}
	if o.Verdict != runner.Passed {
		return one(o, 0, "ran %ss, but the run %s", sig(o.DurationS), o.Verdict)
	}
	return one(o, o.DurationS*1000, "how long its load ran (the run passed)")
}

func okRate(o *runner.Outcome) []Measurement {
	var out []Measurement
	for _, p := range o.Phases {
		if steadyPhase(p) && p.Ops > 0 {
			out = append(out, Measurement{o.Experiment, p.OKPerS, "successful operations per second in " + phaseName(p)})
		}
	}
	return out
}

func operatingP95(o *runner.Outcome) []Measurement {
	s := o.Stress
	if s == nil || s.OperatingPoint == nil || s.OperatingPoint.P95MS == nil {
		return nil
	}
	op := s.OperatingPoint
	return one(o, *op.P95MS, "p95 at level %g (operating point %g = 80%% of capacity)", *op.MeasuredAt, op.Level)
}

func stressUsers(o *runner.Outcome) []Measurement {
	s := o.Stress
	if s == nil || s.Unit != "vus" || len(s.Levels) == 0 {
		return nil
	}
	return one(o, s.Levels[len(s.Levels)-1].Level, "highest stress level run (planned up to %g)", s.To)
}

func breakingPoint(o *runner.Outcome) []Measurement {
	s := o.Stress
	if s == nil {
		return nil
	}
	if s.BreakingPoint == nil {
		return one(o, 0, "every level held up to %g %s", s.To, unitName(s.Unit))
	}
	return one(o, 1, "at %g %s: %s", *s.BreakingPoint, unitName(s.Unit), strings.Join(s.BrokenBy, "; "))
}

func recoveryValue(r *runner.Recovery) (float64, string) {
	if r.MeasuredS == nil {
		return math.Inf(1), fmt.Sprintf("not recovered within %ss", sig(r.WithinS))
	}
	return *r.MeasuredS * 1000, fmt.Sprintf("bound %ss", sig(r.WithinS))
}

func faultRecovery(o *runner.Outcome) []Measurement {
	var out []Measurement
	for _, ep := range o.Episodes {
		if ep.Recovery == nil {
			continue
		}
		v, why := recoveryValue(ep.Recovery)
		out = append(out, Measurement{o.Experiment, v,
			fmt.Sprintf("episode %d (%s): %s", ep.Number, strings.Join(ep.Faults, ", "), why)})
	}
	return out
}

func overloadRecovery(o *runner.Outcome) []Measurement {
	if o.Stress == nil || o.Recovery == nil || o.Stress.RecoverAt == nil {
		return nil
	}
	v, why := recoveryValue(o.Recovery)
	return one(o, v, "after dropping to %g %s: %s", *o.Stress.RecoverAt, unitName(o.Stress.Unit), why)
}

func consistency(o *runner.Outcome) []Measurement {
	var out []Measurement
	for _, v := range o.Verify {
		if v.Acknowledged == 0 || v.Error != "" {
			continue
		}
		out = append(out, Measurement{o.Experiment, float64(v.Verified) / float64(v.Acknowledged),
			fmt.Sprintf("%d of %d acknowledged %s writes found (%d lost, %d unverified)",
				v.Verified, v.Acknowledged, v.Step, v.Lost, v.Unverified)})
	}
	return out
}

func degradationFailures(o *runner.Outcome) []Measurement {
	if len(o.Episodes) == 0 {
		return nil
	}
	var n int
	var names []string
	for _, c := range o.Checks {
		if c.Phase == "fault" && c.Failed() {
			n++
			names = append(names, fmt.Sprintf("%s (%s, episode %d)", c.Name, c.Observed, c.Episode))
		}
	}
	if n == 0 {
		return one(o, 0, "every degradation check held in %d episode(s)", len(o.Episodes))
	}
	return one(o, float64(n), "failed: %s", strings.Join(names, "; "))
}

func probeOK(o *runner.Outcome) []Measurement {
	var out []Measurement
	for _, p := range o.Probes {
		if p.Attempts > 0 {
			out = append(out, Measurement{o.Experiment, p.OKRate,
				fmt.Sprintf("probe %s: %d of %d attempts succeeded", p.Name, p.OK, p.Attempts)})
		}
	}
	return out
}

func peakVUs(o *runner.Outcome) []Measurement {
	if n := maxVUs(o); n > 0 {
		return one(o, float64(n), "peak VUs")
	}
	return nil
}

func transferBytes(o *runner.Outcome) []Measurement {
	var out []Measurement
	for _, s := range o.Steps {
		if s.BodyBytes > 0 && s.Ops > s.Errors {
			out = append(out, Measurement{o.Experiment, float64(s.BodyBytes),
				fmt.Sprintf("the body of each operation of step %s (%d of %d operations succeeded)", s.Name, s.Ops-s.Errors, s.Ops)})
		}
	}
	return out
}

func okOps(o *runner.Outcome) []Measurement {
	if o.Totals.Ops == 0 {
		return nil
	}
	return one(o, float64(o.Totals.Ops-o.Totals.Errors), "successful operations of %d", o.Totals.Ops)
}

func regressions(o *runner.Outcome) []Measurement {
	c := o.Comparison
	if c == nil {
		return nil
	}
	var n int
	var what []string
	for _, m := range c.Metrics {
		if m.Regressed {
			n++
			what = append(what, strings.TrimSpace(m.Phase+" "+m.Metric))
		}
	}
	if n == 0 {
		var skipped int
		for _, m := range c.Metrics {
			if m.Skipped {
				skipped++
			}
		}
		return one(o, 0, "none of %d metrics (%d skipped) regressed against %s", len(c.Metrics), skipped, c.Baseline)
	}
	return one(o, float64(n), "regressed against %s: %s", c.Baseline, strings.Join(what, ", "))
}

// thresholdValues is the observed value of every judged check of the
// threshold key (its tags included: ws_msgs matches ws_msgs{direction:sent}).
func thresholdValues(o *runner.Outcome, key string) []Measurement {
	var out []Measurement
	for _, c := range o.Checks {
		name, _, _ := strings.Cut(c.Name, ": ")
		if c.Skipped || c.Value == nil || (name != key && !strings.HasPrefix(name, key+"{")) {
			continue
		}
		fig := fmt.Sprintf("%s: %s in phase %s", name, c.Observed, c.Phase)
		if c.Episode > 0 {
			fig += fmt.Sprintf(" #%d", c.Episode)
		}
		out = append(out, Measurement{o.Experiment, *c.Value, fig})
	}
	return out
}

func queuedCommands(o *runner.Outcome) []Measurement {
	var out []Measurement
	for _, s := range o.Steps {
		if s.Protocol == "redis" && s.Ops > s.Errors {
			out = append(out, Measurement{o.Experiment, float64(s.Batch),
				fmt.Sprintf("commands per operation of step %s (%d of %d operations succeeded)", s.Name, s.Ops-s.Errors, s.Ops)})
		}
	}
	return out
}
