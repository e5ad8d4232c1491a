package runner

import "time"

// SchemaVersion is the version of the Outcome's JSON form. It changes when a
// field changes meaning or goes away; new fields do not change it.
const SchemaVersion = 1

// Outcome is everything a run found, ready to render or to save as JSON.
// Times in seconds (`_s`) are offsets from the start of the load.
type Outcome struct {
	SchemaVersion int    `json:"schema_version"`
	Experiment    string `json:"experiment"`
	File          string `json:"file"`
	Description   string `json:"description,omitempty"`

	// Verdict is passed, failed, aborted, interrupted or error.
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

	Seed      int64     `json:"seed"`
	StartedAt time.Time `json:"started_at"`
	// DurationS is how long the load ran.
	DurationS float64 `json:"duration_s"`

	Stack    *StackInfo     `json:"stack,omitempty"`
	Targets  []TargetResult `json:"targets"`
	Phases   []Phase        `json:"phases"`
	Checks   []Check        `json:"checks"`
	Recovery *Recovery      `json:"recovery"`
	Faults   []FaultResult  `json:"faults"`
	Verify   []VerifyResult `json:"verify,omitempty"`
	Totals   Totals         `json:"totals"`
	// IntervalS is the length of each entry of Intervals.
	IntervalS float64    `json:"interval_s"`
	Intervals []Interval `json:"intervals"`
}

// Verdict is the one-word result of a run.
type Verdict string

// The verdicts.
const (
	Passed      Verdict = "passed"
	Failed      Verdict = "failed"
	Aborted     Verdict = "aborted"
	Interrupted Verdict = "interrupted"
	Errored     Verdict = "error"
)

// StackInfo describes the bundled stack a run started.
type StackInfo struct {
	Name     string `json:"name"`
	Mode     string `json:"mode"`
	API      string `json:"api"`
	Postgres string `json:"postgres"`
	Redis    string `json:"redis"`
}

// TargetResult describes one proxy and what went through it.
type TargetResult struct {
	Name     string `json:"name"`
	Protocol string `json:"protocol"`
	Listen   string `json:"listen"`
	Upstream string `json:"upstream"`
	Accepted int64  `json:"accepted"`
	Refused  int64  `json:"refused"`
	Reset    int64  `json:"reset"`
	BytesUp  int64  `json:"bytes_up"`
	BytesDn  int64  `json:"bytes_down"`
}

// Phase is one judged span of the run.
type Phase struct {
	Name   string  `json:"name"`
	StartS float64 `json:"start_s"`
	EndS   float64 `json:"end_s"`
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
	Value  *float64 `json:"value"`
	Passed bool     `json:"passed"`
	// Skipped is set when there was nothing to judge (an empty phase);
	// Observed says why. A skipped check does not fail the run.
	Skipped bool `json:"skipped,omitempty"`
}

// Recovery is the measured return to steady state after the last fault.
type Recovery struct {
	// MeasuredS is the recovery time; nil when the service did not recover
	// within the bound (or there were no faults).
	MeasuredS *float64 `json:"measured_s"`
	WithinS   float64  `json:"within_s"`
	HoldS     float64  `json:"hold_s"`
	WindowS   float64  `json:"window_s"`
	Passed    bool     `json:"passed"`
	// FaultEndS is when the revert of the last fault completed.
	FaultEndS float64 `json:"fault_end_s"`
	// FirstGoodS is the time from FaultEndS to the first good window.
	FirstGoodS *float64 `json:"first_good_s"`
	// Flaps counts good → bad transitions after the fault ended.
	Flaps int `json:"flaps"`
	// Detail explains a failure ("not recovered: p95 still 340ms at +30s").
	Detail string `json:"detail,omitempty"`
}

// FaultResult is what happened to one fault of the timeline.
type FaultResult struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Target string `json:"target"`
	// AppliedS and RevertedS are nil when the step did not happen.
	AppliedS  *float64 `json:"applied_s"`
	RevertedS *float64 `json:"reverted_s"`
	ApplyMS   float64  `json:"apply_ms"`
	RevertMS  float64  `json:"revert_ms"`
	Error     string   `json:"error,omitempty"`
}

// VerifyResult is the check of one step's acknowledged writes.
type VerifyResult struct {
	Step         string   `json:"step"`
	Target       string   `json:"target"`
	Acknowledged int      `json:"acknowledged"`
	Verified     int      `json:"verified"`
	Lost         int      `json:"lost"`
	LostIDs      []string `json:"lost_ids,omitempty"`
	Passed       bool     `json:"passed"`
	Error        string   `json:"error,omitempty"`
}

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
}

func seconds(d time.Duration) float64 { return d.Seconds() }

func secondsPtr(d time.Duration, ok bool) *float64 {
	if !ok {
		return nil
	}
	s := d.Seconds()
	return &s
}
