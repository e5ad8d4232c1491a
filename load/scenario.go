// Package load owns the load model: scenarios and their executors (k6's
// six: constant/ramping VUs, constant/ramping arrival rate, per-VU and
// shared iterations), intended-start pacing (uniform or Poisson), steps and
// think time, user flows (templates, extracted per-VU variables, data rows),
// the Driver interface that protocol packages implement, and the
// generator's view of its own health.
//
// Every operation is timed from its intended start: an arrival's place in an
// absolute schedule (open model), or the moment a VU meant to act (closed
// model: when it was started, or the previous step's end plus think time).
// A Load owns its goroutines — per scenario one executor goroutine (the
// scheduler of an arrival-rate scenario, the controller of a ramp) and one
// goroutine per VU — and Run returns only after all have exited.
//
// load never imports a protocol client: that is the job of load/httpload and
// its siblings. It never measures anything but time: results go to a Sink.
package load

import "time"

// Executor names how a scenario schedules its iterations, with k6's names.
type Executor string

// The executors.
const (
	// ConstantArrivalRate starts Rate iterations per TimeUnit whatever the
	// target does (open model). An arrival that finds no free VU is dropped.
	ConstantArrivalRate Executor = "constant-arrival-rate"
	// ConstantVUs runs VUs virtual users in a loop for Duration (closed model).
	ConstantVUs Executor = "constant-vus"
	// RampingVUs moves the number of looping VUs through Stages (closed model).
	RampingVUs Executor = "ramping-vus"
	// RampingArrivalRate moves the arrival rate linearly through Stages,
	// from StartRate (open model).
	RampingArrivalRate Executor = "ramping-arrival-rate"
	// PerVUIterations runs Iterations iterations on each of VUs VUs, within
	// MaxDuration (closed model).
	PerVUIterations Executor = "per-vu-iterations"
	// SharedIterations runs Iterations iterations in all, shared by VUs VUs
	// (a free VU takes the next one), within MaxDuration (closed model).
	SharedIterations Executor = "shared-iterations"
)

// Executors lists every executor.
var Executors = []Executor{ConstantArrivalRate, RampingArrivalRate, ConstantVUs, RampingVUs,
	PerVUIterations, SharedIterations}

// Scenario is one named load of an experiment, with k6's field names.
type Scenario struct {
	// Name is the scenario's key in the file.
	Name     string   `yaml:"-"`
	Executor Executor `yaml:"executor"`

	// VUs is the number of virtual users of constant-vus, per-vu-iterations
	// and shared-iterations (default 1).
	VUs int `yaml:"vus"`
	// Duration is how long the executor runs (constant-vus, arrival rates).
	Duration time.Duration `yaml:"duration"`

	// Stages of ramping-vus (the VU count) and ramping-arrival-rate (the
	// rate per TimeUnit): the value moves linearly to Target over each
	// stage's Duration.
	Stages []Stage `yaml:"stages"`
	// StartVUs is the VU count ramping-vus starts from (default 1).
	StartVUs *int `yaml:"startVUs"`
	// GracefulRampDown lets a VU removed by a ramp down finish its iteration
	// (default 30s).
	GracefulRampDown *time.Duration `yaml:"gracefulRampDown"`

	// Rate iterations are started per TimeUnit (default 1s).
	Rate            float64       `yaml:"rate"`
	TimeUnit        time.Duration `yaml:"timeUnit"`
	PreAllocatedVUs int           `yaml:"preAllocatedVUs"`
	// MaxVUs caps the VUs of an arrival-rate executor (default PreAllocatedVUs).
	MaxVUs int `yaml:"maxVUs"`
	// StartRate is the rate per TimeUnit ramping-arrival-rate starts from
	// (default 0).
	StartRate float64 `yaml:"startRate"`
	// Arrival spaces the arrivals of an arrival-rate executor: uniform
	// (default) or poisson.
	Arrival Arrival `yaml:"arrival"`

	// Iterations is the iteration count of per-vu-iterations (per VU) and
	// shared-iterations (in all); default 1.
	Iterations int `yaml:"iterations"`
	// MaxDuration bounds per-vu-iterations and shared-iterations (default
	// 10m): no iteration starts after it.
	MaxDuration time.Duration `yaml:"maxDuration"`

	// StartTime delays the scenario from the start of the load.
	StartTime time.Duration `yaml:"startTime"`
	// GracefulStop lets running iterations finish after the scenario's end
	// (default 30s); what is still running then is cancelled.
	GracefulStop *time.Duration `yaml:"gracefulStop"`
	// Tags are added to every result of the scenario.
	Tags map[string]string `yaml:"tags"`

	// Data is a CSV file (a header row naming the columns, then one row per
	// record) whose rows feed the steps: each iteration takes one row,
	// read as ${data.COLUMN}. Relative to the working directory (package
	// config makes a file's path relative to the experiment file).
	Data string `yaml:"data"`
	// DataOrder is how iterations take rows: round-robin (default: the
	// next row, shared by every VU of the scenario) or random (seeded).
	DataOrder DataOrder `yaml:"dataOrder"`
	// Rows holds Data's rows once read; New reads Data when it is nil.
	Rows *DataSet `yaml:"-"`

	// Steps make up one iteration, run in order by one VU.
	Steps []Step `yaml:"steps"`
}

// Stage is one leg of a ramp: over Duration the VU count moves linearly to
// Target (a Duration of 0 jumps to it).
type Stage struct {
	Duration time.Duration `yaml:"duration"`
	Target   int           `yaml:"target"`
}

// Default values of optional scenario fields.
const (
	DefaultTimeUnit         = time.Second
	DefaultGracefulStop     = 30 * time.Second
	DefaultGracefulRampDown = 30 * time.Second
	DefaultStartVUs         = 1
	DefaultVUs              = 1
	DefaultIterations       = 1
	DefaultMaxDuration      = 10 * time.Minute
)

// Arrival is how an arrival-rate executor spaces its arrivals.
type Arrival string

// The arrival processes.
const (
	// Uniform spaces arrivals evenly: arrival i when the expected count
	// (the rate integrated from the scenario's start) reaches i.
	Uniform Arrival = "uniform"
	// Poisson draws exponential gaps (seeded) with the same mean rate, as
	// independent users arrive: bursts and lulls the target must absorb.
	Poisson Arrival = "poisson"
)

// Arrivals lists the arrival processes.
var Arrivals = []Arrival{Uniform, Poisson}

// Span is how long the scenario schedules work, from the start of the load:
// its StartTime plus its duration (the sum of its stages for the ramping
// executors, MaxDuration for the iteration-count ones, an upper bound).
// Graceful stops come after it.
func (s *Scenario) Span() time.Duration {
	switch s.Executor {
	case RampingVUs, RampingArrivalRate:
		var d time.Duration
		for _, st := range s.Stages {
			d += st.Duration
		}
		return s.StartTime + d
	case PerVUIterations, SharedIterations:
		if s.MaxDuration <= 0 {
			return s.StartTime + DefaultMaxDuration
		}
		return s.StartTime + s.MaxDuration
	}
	return s.StartTime + s.Duration
}

// OpenModel reports whether the scenario's executor keeps the offered load
// whatever the target does (arrival-rate executors).
func (s *Scenario) OpenModel() bool {
	return s.Executor == ConstantArrivalRate || s.Executor == RampingArrivalRate
}

// Span returns the longest Span of scenarios: when the load ends.
func Span(scenarios []Scenario) time.Duration {
	var d time.Duration
	for i := range scenarios {
		d = max(d, scenarios[i].Span())
	}
	return d
}
