package runner

import (
	"strings"
	"time"

	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/proxy"
)

// SchemaVersion is the version of the Outcome's JSON form. It changes when a
// field changes meaning or goes away; new fields do not change it.
//
// 2: `invalid` is gone (a busy generator no longer voids a run); `verdict`
// may be `inconclusive`, named in `inconclusive[]`; a check or recovery
// whose result flips without the generator's own lateness has
// `inconclusive` set and `passed` false. The faults are judged per episode
// (`episodes[]`, each with its checks and recovery): the fault, gap,
// recovery and steady phases come once per episode and carry its
// `episode`, as do their checks and offered load, and `recovery` is the
// last episode's.
const SchemaVersion = 2

// Outcome is everything a run found, ready to render or to save as JSON.
// Times in seconds (`_s`) are offsets from the start of the load.
type Outcome struct {
	SchemaVersion int    `json:"schema_version"`
	Experiment    string `json:"experiment"`
	File          string `json:"file"`
	// Tags are the experiment's tags (its suites: load, stress, ...).
	Tags        []string `json:"tags,omitempty"`
	Description string   `json:"description,omitempty"`

	// Verdict is passed, failed, aborted, inconclusive, incomplete,
	// interrupted or error: the outcome every report states and the exit
	// code maps.
	Verdict Verdict `json:"verdict"`
	// Passed is true when every expectation held.
	Passed bool `json:"passed"`
	// Partial is true when the run did not complete (interrupt, abort,
	// infrastructure error): what is here is what was measured so far.
	Partial bool `json:"partial"`
	// AbortReason says which abort condition stopped the run.
	AbortReason string `json:"abort_reason,omitempty"`
	// Errors are infrastructure problems (a target unreachable, a fault
	// that could not be applied or reverted).
	Errors []string `json:"errors,omitempty"`
	// Warnings are things the reader should know about the measurement.
	Warnings []string `json:"warnings,omitempty"`
	// Inconclusive names what the load generator itself decides: each
	// check whose result flips when judged without the generator's own
	// lateness (with the lateness that flipped it), and each phase whose
	// offered load the generator fell short of. The verdict is
	// inconclusive when something is named here and nothing failed both
	// ways; a failure the generator cannot explain fails the run whatever
	// is named here.
	Inconclusive []string `json:"inconclusive,omitempty"`
	// Lost is the worker a distributed run lost after the start (verdict
	// incomplete); nil otherwise.
	Lost *LostWorker `json:"lost_worker,omitempty"`
	// Workers is how many worker processes offered the load of a
	// distributed run; 0 when this process offered it.
	Workers int `json:"workers,omitempty"`
	// Generator is the load generator's view of itself, information that
	// decides nothing by itself; nil when no load ran.
	Generator *GeneratorHealth `json:"generator,omitempty"`

	Seed      int64     `json:"seed"`
	StartedAt time.Time `json:"started_at"`
	// DurationS is how long the load ran.
	DurationS float64 `json:"duration_s"`

	Stack *StackInfo `json:"stack,omitempty"`
	// Pool is what the stack service's PostgreSQL connection pool counted
	// while the load ran (pool.go); nil without such a stack, or when the
	// service restarted during the run.
	Pool     *PoolWait      `json:"pool,omitempty"`
	Targets  []TargetResult `json:"targets"`
	Phases   []Phase        `json:"phases"`
	Checks   []Check        `json:"checks"`
	Recovery *Recovery      `json:"recovery"`
	Faults   []FaultResult  `json:"faults"`
	Verify   []VerifyResult `json:"verify,omitempty"`
	// Episodes are the fault episodes, in time order (episode.go); none
	// without faults and for a stress run. Recovery is the last one's.
	Episodes []Episode `json:"episodes,omitempty"`
	// Resources is what the resource monitor saw (monitor:, or the demo
	// stack); nil when nothing was monitored.
	Resources *Resources `json:"resources,omitempty"`
	// Probes sums up each probe (probes:).
	Probes []ProbeResult `json:"probes,omitempty"`
	// Stress is the breaking-point search (stress:); nil otherwise.
	Stress *StressResult `json:"stress,omitempty"`
	Totals Totals        `json:"totals"`
	// Steps sums up each step of each scenario over the whole load.
	Steps []StepResult `json:"steps,omitempty"`
	// Traffic is what each target's proxies carried, per replica, sampled
	// every interval (traffic.go); omitted without targets.
	Traffic []TargetTraffic `json:"traffic,omitempty"`
	// IntervalS is the length of each entry of Intervals.
	IntervalS float64    `json:"interval_s"`
	Intervals []Interval `json:"intervals"`
	// Comparison compares this run with a saved one (--baseline); nil
	// without a baseline. See Outcome.Compare.
	Comparison *Comparison `json:"comparison,omitempty"`
	// Audit is the audit log of a game-day session (package gameday): every
	// fault change, who made it and when; empty for `chaosload run`.
	Audit []AuditRecord `json:"audit,omitempty"`
}

// AuditRecord is one change made during a game-day session.
type AuditRecord struct {
	Time time.Time `json:"time"`
	// Who is an API token's name, "dashboard", "api", "timeline",
	// "duration-ended" or "shutdown".
	Who    string `json:"who"`
	Action string `json:"action"`
	Target string `json:"target,omitempty"`
	Fault  string `json:"fault,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// Verdict is the one-word result of a run.
type Verdict string

// The verdicts.
const (
	Passed  Verdict = "passed"
	Failed  Verdict = "failed"
	Aborted Verdict = "aborted"
	// Inconclusive: nothing failed both ways, but the generator's own
	// lateness decides a check, or the generator fell short of the load it
	// was to offer (Outcome.Inconclusive says which).
	Inconclusive Verdict = "inconclusive"
	// Incomplete: a distributed run lost a worker after the start, so part
	// of the schedule was never offered (Outcome.Lost says which).
	Incomplete  Verdict = "incomplete"
	Interrupted Verdict = "interrupted"
	Errored     Verdict = "error"
)

// Verdicts lists every verdict.
var Verdicts = []Verdict{Passed, Failed, Aborted, Inconclusive, Incomplete, Interrupted, Errored}

// StackInfo describes the bundled stack a run started.
type StackInfo struct {
	Name     string `json:"name"`
	Mode     string `json:"mode"`
	API      string `json:"api"`
	Postgres string `json:"postgres"`
	Redis    string `json:"redis"`
	// PIDs are the stack's processes by role (service, postgres, redis;
	// redis absent when it runs in-process; with replicas service[1], ...
	// and haproxy too), each a process of its own.
	PIDs map[string]int `json:"pids,omitempty"`
	// Replicas are the service's replicas' addresses, replica 0 first
	// (stack.replicas); API is then them joined by commas.
	Replicas []string `json:"replicas,omitempty"`
	// Balancer is the load balancer in front of the replicas.
	Balancer *BalancerInfo `json:"balancer,omitempty"`
	// Services are the file's own services (stack.services), in start
	// order.
	Services []ServiceInfo `json:"services,omitempty"`
}

// TargetResult describes one proxy and what went through it.
type TargetResult struct {
	Name     string `json:"name"`
	Protocol string `json:"protocol"`
	// Listen and Upstream are the replicas' addresses, joined by commas,
	// for a target of several upstreams.
	Listen   string `json:"listen"`
	Upstream string `json:"upstream"`
	ProxyCounts
	// FastPath is how the proxy carried connections without a fault:
	// "sockmap" (inside the kernel) or "copy" (in user space).
	FastPath string `json:"fast_path,omitempty"`
	// Replicas are the proxies of a target of several upstreams, in order
	// (its counts are their sums); omitted for one upstream.
	Replicas []ReplicaResult `json:"replicas,omitempty"`
}

// ReplicaResult describes one replica's proxy and what went through it.
type ReplicaResult struct {
	// Name is the proxy's: "api[1]".
	Name     string `json:"name"`
	Listen   string `json:"listen"`
	Upstream string `json:"upstream"`
	ProxyCounts
}

// ProxyCounts is what a proxy counted over the run.
type ProxyCounts struct {
	Accepted int64 `json:"accepted"`
	Refused  int64 `json:"refused"`
	Reset    int64 `json:"reset"`
	BytesUp  int64 `json:"bytes_up"`
	BytesDn  int64 `json:"bytes_down"`
	// Requests counts the requests the proxy saw start, on the replicas of
	// http, postgres and redis targets of several (proxy.Stats.Requests).
	Requests int64 `json:"requests,omitempty"`
}

// CountsOf is what s counted.
func CountsOf(s proxy.Stats) ProxyCounts {
	return ProxyCounts{
		Accepted: int64(s.Accepted), Refused: int64(s.Refused), Reset: int64(s.Reset),
		BytesUp: int64(s.BytesUp), BytesDn: int64(s.BytesDown), Requests: int64(s.Requests),
	}
}

// add sums c into p.
func (p *ProxyCounts) add(c ProxyCounts) {
	p.Accepted, p.Refused, p.Reset = p.Accepted+c.Accepted, p.Refused+c.Refused, p.Reset+c.Reset
	p.BytesUp, p.BytesDn, p.Requests = p.BytesUp+c.BytesUp, p.BytesDn+c.BytesDn, p.Requests+c.Requests
}

// Phase is one judged span of the run, with what its operations did (all
// operations bucketed by intended start in [StartS, EndS)).
type Phase struct {
	Name   string  `json:"name"`
	StartS float64 `json:"start_s"`
	EndS   float64 `json:"end_s"`
	// Episode is the fault episode of a fault, gap, recovery or steady
	// phase, from 1; omitted (0) for warm-up, baseline and stress levels.
	Episode int `json:"episode,omitempty"`
	// Ops counts every operation, dropped arrivals included; Errors those
	// that failed (dropped ones included); Dropped the dropped arrivals.
	Ops     int64 `json:"ops"`
	Errors  int64 `json:"errors"`
	Dropped int64 `json:"dropped"`
	// OpsPerS is Ops per second of the phase; OKPerS the operations that
	// succeeded per second: the throughput baselines compare.
	OpsPerS float64 `json:"ops_per_s"`
	OKPerS  float64 `json:"ok_per_s"`
	// Latency percentiles of the phase's timed operations (0 without any).
	P50MS float64 `json:"p50_ms"`
	P95MS float64 `json:"p95_ms"`
	P99MS float64 `json:"p99_ms"`
	// P95WithoutLatenessMS is the p95 of the same operations less the
	// generator's own lateness: a baseline comparison judges p95 both ways.
	// nil without timed operations (and in results of schema 1).
	P95WithoutLatenessMS *float64 `json:"p95_without_lateness_ms,omitempty"`
}

// Check is one expectation and what was observed.
type Check struct {
	// Name is "key: expression" for thresholds.
	Name       string `json:"name"`
	Phase      string `json:"phase"`
	Expression string `json:"expression"`
	// Observed is human-readable ("p95 = 4.1ms", "no data").
	Observed string `json:"observed"`
	// Value is the observed number in the expression's unit (ms for
	// durations, a fraction for rates); nil when there was no data.
	Value *float64 `json:"value"`
	// Passed is true when the check held; false when it failed, and when
	// it is Inconclusive.
	Passed bool `json:"passed"`
	// Skipped is set when there was nothing to judge (an empty phase);
	// Observed says why. A skipped check does not fail the run.
	Skipped bool `json:"skipped,omitempty"`
	// Episode is the fault episode of the phase, from 1; omitted (0) for
	// the baseline and stress levels.
	Episode int `json:"episode,omitempty"`
	// Inconclusive is set when the check's result flips without the
	// generator's own lateness: it neither passed nor failed, and the run
	// is at best inconclusive.
	Inconclusive bool `json:"inconclusive,omitempty"`
	// WithoutLateness is the check judged a second time on the same
	// operations less the generator's own lateness (latency and
	// dispatch_lag checks); nil for checks that lateness cannot change.
	WithoutLateness *Judgement `json:"without_lateness,omitempty"`
}

// Failed reports whether the check failed both with and without the
// generator's own lateness: a failure the generator cannot explain.
func (c Check) Failed() bool { return !c.Passed && !c.Skipped && !c.Inconclusive }

// Judgement is an expectation judged a second time, without the
// generator's own lateness.
type Judgement struct {
	// Observed is what was seen that way ("p95 = 1.2ms", "recovered in
	// 2.5s").
	Observed string `json:"observed"`
	// Value is the number in the expression's unit; nil without data (and
	// for recovery, where MeasuredS says it).
	Value  *float64 `json:"value"`
	Passed bool     `json:"passed"`
	// LatenessMS is how much the generator's own lateness added to the
	// value (the value with it less the value without it), in ms; nil
	// when not both were observed.
	LatenessMS *float64 `json:"lateness_ms,omitempty"`
	// MeasuredS is the recovery time without the lateness (recovery only;
	// nil when not recovered).
	MeasuredS *float64 `json:"measured_s,omitempty"`
}

// Recovery is the measured return to steady state after an episode's last
// fault, or for a stress run after overload. Outcome.Recovery is the last
// episode's (the one recovery a run had before episodes).
type Recovery struct {
	// MeasuredS is the recovery time; nil when the service did not recover
	// within the bound (or there were no faults).
	MeasuredS *float64 `json:"measured_s"`
	WithinS   float64  `json:"within_s"`
	HoldS     float64  `json:"hold_s"`
	WindowS   float64  `json:"window_s"`
	Passed    bool     `json:"passed"`
	// FaultEndS is when the revert of the episode's last fault completed.
	FaultEndS float64 `json:"fault_end_s"`
	// FirstGoodS is the time from FaultEndS to the first good window.
	FirstGoodS *float64 `json:"first_good_s"`
	// Flaps counts good → bad transitions after the fault ended.
	Flaps int `json:"flaps"`
	// Detail explains a failure ("not recovered: p95 still 340ms at +30s").
	Detail string `json:"detail,omitempty"`
	// Inconclusive is set when recovery within the bound is decided by the
	// generator's own lateness: measured without it, the result flips.
	// Passed is then false.
	Inconclusive bool `json:"inconclusive,omitempty"`
	// WithoutLateness is recovery measured again less the generator's own
	// lateness, when a steady-state threshold depends on it.
	WithoutLateness *Judgement `json:"without_lateness,omitempty"`
}

// Failed reports whether recovery failed with and without the
// generator's own lateness.
func (r *Recovery) Failed() bool { return r != nil && !r.Passed && !r.Inconclusive }

// FaultResult is what happened to one fault of the timeline.
type FaultResult struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Target string `json:"target"`
	// DueS is when the fault was due (its startTime); ApplyBeganS when its
	// apply began; AppliedS when the apply completed: the fault in effect.
	// RevertDueS, RevertBeganS and RevertedS are the same for the revert
	// (due at the fault's end, or when the run ended first). A time is nil
	// when the step did not happen.
	DueS         float64  `json:"due_s"`
	ApplyBeganS  *float64 `json:"apply_began_s"`
	AppliedS     *float64 `json:"applied_s"`
	RevertDueS   *float64 `json:"revert_due_s"`
	RevertBeganS *float64 `json:"revert_began_s"`
	RevertedS    *float64 `json:"reverted_s"`
	ApplyMS      float64  `json:"apply_ms"`
	RevertMS     float64  `json:"revert_ms"`
	// LateS is how much later than due the fault took effect, and ShortS
	// how much less than its duration it was in effect (from the apply's
	// completion to the revert's beginning); each is set when it exceeds
	// the recorder's interval, and a warning says so.
	LateS  float64 `json:"late_s,omitempty"`
	ShortS float64 `json:"short_s,omitempty"`
	// Injected counts the requests a protocol-aware error fault answered
	// itself; Delayed the requests a protocol-aware delay held;
	// Uninspectable the connections such a fault could not parse (TLS, an
	// upgrade, pub/sub), which it left alone. (Effect has them too.)
	Injected      int64 `json:"injected,omitempty"`
	Delayed       int64 `json:"delayed,omitempty"`
	Uninspectable int64 `json:"uninspectable,omitempty"`
	// ExpectEffect is the fault's expectEffect: a fault that changed no
	// traffic fails the run rather than only warning.
	ExpectEffect bool `json:"expect_effect,omitempty"`
	// Effect is what the fault did to traffic, measured at the target's
	// proxy; nil when it was not applied.
	Effect *FaultEffect `json:"effect,omitempty"`
	Error  string       `json:"error,omitempty"`
	// Selection is which replicas of its target the fault acted on (its
	// select:); nil for a host fault.
	Selection *Selection `json:"selection,omitempty"`
}

// FaultEffect is what a fault did to traffic while in effect, as the
// target's proxy saw it; for pool exhaustion also what it held at the
// server. Counts that stayed zero are left out of the JSON.
type FaultEffect struct {
	// Changed is false when the fault changed no traffic: every count of
	// connections, requests, bytes and server refusals below stayed zero
	// (ConnsSelected, Admissions, ServerAdmitted and the hold's figures do
	// not count as a change).
	Changed bool `json:"changed"`
	// ConnsSelected counts the connections the fault could act on: those
	// its toxicity draw selected among the connections open or opened
	// while it was in effect.
	ConnsSelected int64 `json:"conns_selected,omitempty"`
	// ConnsRefused: new connections turned away (reset, conn-limit refuse).
	// ConnsReset: connections ended (reset, reset-peer, down, timeout,
	// limit-data). ConnsQueued: connections conn-limit made wait.
	// ConnsDelayed: connections held before dialling (connect-delay) or
	// whose close was held (slow-close).
	ConnsRefused int64 `json:"conns_refused,omitempty"`
	ConnsReset   int64 `json:"conns_reset,omitempty"`
	ConnsQueued  int64 `json:"conns_queued,omitempty"`
	ConnsDelayed int64 `json:"conns_delayed,omitempty"`
	// RequestsErrored: requests a protocol-aware error fault answered.
	// RequestsDelayed: requests a protocol-aware delay held.
	RequestsErrored int64 `json:"requests_errored,omitempty"`
	RequestsDelayed int64 `json:"requests_delayed,omitempty"`
	// ChunksDelayed: chunks latency or loss held back; DelayS the delay
	// injected in all (chunks and requests).
	ChunksDelayed int64   `json:"chunks_delayed,omitempty"`
	DelayS        float64 `json:"delay_s,omitempty"`
	// BytesHeld: bytes held back (latency, loss, bandwidth, slicer).
	// BytesDropped: bytes discarded (timeout, limit-data). PacketsDropped:
	// packets kernel loss dropped, both ways.
	BytesHeld      int64  `json:"bytes_held,omitempty"`
	BytesDropped   int64  `json:"bytes_dropped,omitempty"`
	PacketsDropped uint64 `json:"packets_dropped,omitempty"`
	// Pool exhaustion. ServerRefused: connections through the proxy the
	// server refused for lack of slots (PostgreSQL's 53300, Redis's "max
	// number of clients reached"); ServerAdmitted: those it took (the hold
	// lost a slot to a client); Admissions: new connections that waited for
	// the hold's top-up before the proxy dialled. SlotsHeld: the most slots
	// held at once; HoldAttempts and HoldRefused: the hold's own connection
	// attempts and those the server refused.
	ServerRefused  int64 `json:"server_refused,omitempty"`
	ServerAdmitted int64 `json:"server_admitted,omitempty"`
	Admissions     int64 `json:"admissions,omitempty"`
	SlotsHeld      int   `json:"slots_held,omitempty"`
	HoldAttempts   int64 `json:"hold_attempts,omitempty"`
	HoldRefused    int64 `json:"hold_refused,omitempty"`
	// Host is what a process or host fault (kill to disk-fill) did, as the
	// kernel or the process showed it: the PIDs, processes stopped, CFS
	// periods and time throttled, memory peak, limit hits, pages reclaimed
	// and OOM kills, bytes read and written, CPU burnt, memory held, bytes
	// written and free space, the new PID after a restart. Changed is then
	// read from it (a period throttled, a process stopped, a byte written).
	Host *faults.HostEffect `json:"host,omitempty"`
}

// VerifyResult is the check of one step's acknowledged writes.
//
// Every acknowledged id is verified (found), lost (the check answered that
// it is not there) or unverified (a verify by HTTP whose service answered
// 408, 429 or 5xx, or not at all, on every attempt: nothing is known). The
// check passes when every id was verified.
type VerifyResult struct {
	Step         string   `json:"step"`
	Target       string   `json:"target"`
	Acknowledged int      `json:"acknowledged"`
	Verified     int      `json:"verified"`
	Lost         int      `json:"lost"`
	LostIDs      []string `json:"lost_ids,omitempty"`
	Unverified   int      `json:"unverified,omitempty"`
	// UnverifiedIDs lists up to 20 unverified ids; UnverifiedWhy is the
	// last failure of the first of them (e.g. "answered 503 Service
	// Unavailable").
	UnverifiedIDs []string `json:"unverified_ids,omitempty"`
	UnverifiedWhy string   `json:"unverified_why,omitempty"`
	Passed        bool     `json:"passed"`
	Error         string   `json:"error,omitempty"`
}

// GeneratorHealth is how the load generator fared (load.Health), after the
// warm-up: information for the reader. What the generator could have
// changed is judged check by check (Check.WithoutLateness) and phase by
// phase (Offered).
type GeneratorHealth struct {
	// Ops is how many operations' generator lag was measured.
	Ops int64 `json:"ops"`
	// LagP50MS, LagP99MS and LagMaxMS are the generator lag (intended
	// start → hand-off to the driver: the generator's own lateness, never
	// the target's) at p50, p99 and at most, in milliseconds.
	LagP50MS float64 `json:"lag_p50_ms"`
	LagP99MS float64 `json:"lag_p99_ms"`
	LagMaxMS float64 `json:"lag_max_ms"`
	// CPUPeak is the highest sampled CPU use of the process, a share of
	// Cores (1 = every core busy).
	CPUPeak float64 `json:"cpu_peak"`
	// CPUSaturatedS is the longest stretch with the CPU saturated.
	CPUSaturatedS float64 `json:"cpu_saturated_s"`
	Cores         int     `json:"cores"`
	// Busy says when the generator was busy beyond its usual limits (lag
	// p99 above 5 ms, or its CPU saturated for more than 5 s); it decides
	// nothing.
	Busy string `json:"busy,omitempty"`
	// Offered is what each open-model scenario offered in each judged
	// phase, against its schedule.
	Offered []OfferedLoad `json:"offered,omitempty"`
}

// OfferedLoad is what one open-model scenario offered in one phase. Arrivals
// count by their intended start, like every result.
type OfferedLoad struct {
	Phase string `json:"phase"`
	// Episode is the phase's fault episode, from 1; omitted (0) for the
	// baseline.
	Episode  int    `json:"episode,omitempty"`
	Scenario string `json:"scenario"`
	// Intended counts the arrivals the schedule placed in the phase; Made
	// those started or dropped; Dropped those dropped for want of a free VU
	// (the target kept the VUs busy: made all the same).
	Intended int64 `json:"intended"`
	Made     int64 `json:"made"`
	Dropped  int64 `json:"dropped"`
	// Short is set when the generator made fewer than MinOffered of the
	// intended arrivals, for its own reasons: the phase was not offered
	// the load it was to be judged under.
	Short bool `json:"short,omitempty"`
}

// MinOffered is the share of a phase's intended arrivals the generator must
// make for the phase to count as offered in full.
const MinOffered = 0.99

// Totals sums the whole load.
type Totals struct {
	Ops     int64            `json:"ops"`
	Errors  int64            `json:"errors"`
	Dropped int64            `json:"dropped"`
	ByClass map[string]int64 `json:"by_class"`
}

// Interval is one recorder interval, for charts.
type Interval struct {
	TS     float64 `json:"t_s"`
	Ops    int64   `json:"ops"`
	Errors int64   `json:"errors"`
	P50MS  float64 `json:"p50_ms"`
	P95MS  float64 `json:"p95_ms"`
	P99MS  float64 `json:"p99_ms"`
	// ByClass splits Errors by error class (omitted when there are none).
	ByClass map[string]int64 `json:"by_class,omitempty"`
	// VUs and BusyVUs are the load's VUs in service and running an
	// iteration, sampled by the runner at the end of the interval.
	VUs     int64 `json:"vus"`
	BusyVUs int64 `json:"busy_vus"`
	// Arrivals counts the iterations due in the interval (started or
	// dropped), from the same samples: the arrival rate of an open model.
	Arrivals int64 `json:"arrivals"`
	// Resources are the monitored target's sampled gauges by metric name
	// (target_cpu in percent of one core, target_rss in bytes, target_fds);
	// omitted when no target is monitored (monitor.go samples them).
	Resources map[string]float64 `json:"resources,omitempty"`
}

// Comparison is this run set against a saved baseline run: p95 latency and
// throughput per phase, and the recovery time, each allowed to be worse by
// at most MaxRegression.
type Comparison struct {
	// Baseline names the saved run (its file, as given).
	Baseline string `json:"baseline"`
	// BaselineStartedAt is when the baseline run started.
	BaselineStartedAt time.Time `json:"baseline_started_at"`
	// MaxRegression is the bound as a fraction (0.1 for 10%).
	MaxRegression float64 `json:"max_regression"`
	// Passed is false when any compared metric regressed beyond the bound.
	Passed  bool           `json:"passed"`
	Metrics []MetricChange `json:"metrics"`
	// Note is a caveat about the comparison (the baseline is a run of
	// another experiment).
	Note string `json:"note,omitempty"`
}

// MetricChange is one metric of a Comparison.
type MetricChange struct {
	// Metric is "p95_ms", "ok_per_s" or "recovery_s".
	Metric string `json:"metric"`
	// Phase is the phase compared, with its episode ("fault #1"); for
	// recovery_s the episode ("episode 1"), "" for the recovery of a run
	// without episodes (a stress run's after overload).
	Phase string `json:"phase,omitempty"`
	// Baseline and Current are the values; nil when a run lacks it (not
	// recovered, or a phase it did not have).
	Baseline *float64 `json:"baseline"`
	Current  *float64 `json:"current"`
	// Change is the relative change, signed so that positive is worse:
	// (Current − Baseline) / Baseline for p95_ms and recovery_s,
	// (Baseline − Current) / Baseline for ok_per_s; nil when Baseline is 0
	// or either value is missing.
	Change *float64 `json:"change"`
	// Regressed is true when the change is worse than the bound allows,
	// with and without the generator's own lateness.
	Regressed bool `json:"regressed"`
	// Inconclusive is set when the change is worse than the bound allows
	// only with the generator's own lateness (p95, recovery time): the
	// generator could have caused it. Note says by how much.
	Inconclusive bool `json:"inconclusive,omitempty"`
	// Skipped is set when the metric was not judged; Note says why.
	Skipped bool   `json:"skipped,omitempty"`
	Note    string `json:"note,omitempty"`
}

// Compare attaches a comparison with a baseline run, the gate: a run that
// passed, or was inconclusive, and regressed beyond the bound with and
// without the generator's own lateness fails; a run that passed and
// regressed only with that lateness is inconclusive. Other verdicts stay.
func (o *Outcome) Compare(c *Comparison) {
	o.Comparison = c
	if c == nil || o.Verdict != Passed && o.Verdict != Inconclusive {
		return
	}
	for _, m := range c.Metrics {
		if m.Inconclusive {
			what := strings.TrimSpace(m.Phase + " " + m.Metric)
			o.Inconclusive = append(o.Inconclusive, "regression against "+c.Baseline+": "+what+" "+m.Note)
		}
	}
	switch {
	case !c.Passed:
		o.Verdict = Failed
	case len(o.Inconclusive) > 0:
		o.Verdict = Inconclusive
	}
	o.Passed = o.Verdict == Passed
}

func seconds(d time.Duration) float64 { return d.Seconds() }

func secondsPtr(d time.Duration, ok bool) *float64 {
	if !ok {
		return nil
	}
	s := d.Seconds()
	return &s
}
