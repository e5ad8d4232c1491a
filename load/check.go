package load

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"time"
)

// maxRatePerSecond bounds an arrival rate: beyond it the period drops under a
// microsecond, more than one generator can pace.
const maxRatePerSecond = 1e6

// prepare returns a private copy of sc (steps included) with defaults
// applied, or every reason it cannot run. Package config validates files for
// users; this check keeps the executors from misbehaving on values a library
// caller passes.
func prepare(sc Scenario, drivers map[Protocol]Driver) (*Scenario, []Driver, error) {
	s := sc
	s.Steps = append([]Step(nil), sc.Steps...)
	s.Stages = append([]Stage(nil), sc.Stages...)
	applyDefaults(&s)
	errs := checkCommon(&s)
	errs = append(errs, checkExecutor(&s)...)
	errs = append(errs, checkData(&s)...)
	errs = append(errs, compileSteps(&s)...)
	ds, derrs := stepDrivers(&s, drivers)
	errs = append(errs, derrs...)
	if len(errs) > 0 {
		return nil, nil, fmt.Errorf("scenario %q: %w", s.Name, errors.Join(errs...))
	}
	return &s, ds, nil
}

// checkExecutor checks the fields of the scenario's executor.
func checkExecutor(s *Scenario) []error {
	switch s.Executor {
	case ConstantArrivalRate:
		return append(checkArrivalRate(s), checkArrival(s)...)
	case RampingArrivalRate:
		return append(checkRampingArrivalRate(s), checkArrival(s)...)
	case ConstantVUs:
		return checkConstantVUs(s)
	case RampingVUs:
		return checkRampingVUs(s)
	case PerVUIterations, SharedIterations:
		return checkIterations(s)
	}
	return []error{fmt.Errorf("executor %q is unknown (want one of %v)", s.Executor, Executors)}
}

// applyDefaults fills the optional fields left unset with k6's defaults.
func applyDefaults(s *Scenario) {
	if s.TimeUnit == 0 {
		s.TimeUnit = DefaultTimeUnit
	}
	if s.Arrival == "" {
		s.Arrival = Uniform
	}
	if s.DataOrder == "" {
		s.DataOrder = RoundRobin
	}
	if s.Executor == PerVUIterations || s.Executor == SharedIterations {
		s.VUs = cmp.Or(s.VUs, DefaultVUs)
		s.Iterations = cmp.Or(s.Iterations, DefaultIterations)
		s.MaxDuration = cmp.Or(s.MaxDuration, DefaultMaxDuration)
	}
	if s.GracefulStop == nil {
		s.GracefulStop = ptr(DefaultGracefulStop)
	}
	if s.GracefulRampDown == nil {
		s.GracefulRampDown = ptr(DefaultGracefulRampDown)
	}
	if s.StartVUs == nil {
		s.StartVUs = ptr(DefaultStartVUs)
	}
	if s.MaxVUs == 0 {
		s.MaxVUs = s.PreAllocatedVUs
	}
	if s.VUs == 0 && s.Executor == ConstantVUs {
		s.VUs = 1
	}
}

func ptr[T any](v T) *T { return &v }

// checkCommon checks the fields every executor uses.
func checkCommon(s *Scenario) []error {
	var errs []error
	if s.Name == "" {
		errs = append(errs, errors.New("name is empty"))
	}
	if s.StartTime < 0 {
		errs = append(errs, fmt.Errorf("startTime %s is negative", s.StartTime))
	}
	if *s.GracefulStop < 0 {
		errs = append(errs, fmt.Errorf("gracefulStop %s is negative", *s.GracefulStop))
	}
	if len(s.Steps) == 0 {
		errs = append(errs, errors.New("has no steps"))
	}
	for i, st := range s.Steps {
		if st.Think.Min < 0 || st.Think.Max < st.Think.Min {
			errs = append(errs, fmt.Errorf("step %d (%q): think %s is not 0 <= min <= max", i, st.Name, st.Think))
		}
	}
	return errs
}

// checkArrivalRate checks constant-arrival-rate's fields.
func checkArrivalRate(s *Scenario) []error {
	var errs []error
	perSecond := s.Rate * float64(time.Second) / float64(s.TimeUnit)
	switch {
	case math.IsNaN(s.Rate) || s.Rate <= 0 || math.IsInf(s.Rate, 0):
		errs = append(errs, fmt.Errorf("rate %v must be a number > 0", s.Rate))
	case s.TimeUnit < 0:
		errs = append(errs, fmt.Errorf("timeUnit %s is negative", s.TimeUnit))
	case perSecond > maxRatePerSecond:
		errs = append(errs, fmt.Errorf("rate %v per %s is %.0f/s, above the %.0f/s one scenario can pace",
			s.Rate, s.TimeUnit, perSecond, float64(maxRatePerSecond)))
	}
	if s.Duration <= 0 {
		errs = append(errs, fmt.Errorf("duration %s must be > 0", s.Duration))
	}
	return append(errs, checkPool(s)...)
}

// checkPool checks the VU pool of an arrival-rate executor.
func checkPool(s *Scenario) []error {
	var errs []error
	if s.PreAllocatedVUs < 0 {
		errs = append(errs, fmt.Errorf("preAllocatedVUs %d is negative", s.PreAllocatedVUs))
	}
	if s.MaxVUs < 1 || s.MaxVUs < s.PreAllocatedVUs {
		errs = append(errs, fmt.Errorf("maxVUs %d must be >= 1 and >= preAllocatedVUs (%d)", s.MaxVUs, s.PreAllocatedVUs))
	}
	return errs
}

// checkRampingArrivalRate checks ramping-arrival-rate's fields.
func checkRampingArrivalRate(s *Scenario) []error {
	var errs []error
	if math.IsNaN(s.StartRate) || s.StartRate < 0 || math.IsInf(s.StartRate, 0) {
		errs = append(errs, fmt.Errorf("startRate %v must be a number >= 0", s.StartRate))
	}
	errs = append(errs, checkStages(s.Stages, "ramping-arrival-rate")...)
	peak := s.StartRate
	for _, st := range s.Stages {
		peak = max(peak, float64(st.Target))
	}
	if perSecond := peak * float64(time.Second) / float64(s.TimeUnit); s.TimeUnit > 0 && perSecond > maxRatePerSecond {
		errs = append(errs, fmt.Errorf("peak rate %v per %s is %.0f/s, above the %.0f/s one scenario can pace",
			peak, s.TimeUnit, perSecond, float64(maxRatePerSecond)))
	}
	if s.TimeUnit < 0 {
		errs = append(errs, fmt.Errorf("timeUnit %s is negative", s.TimeUnit))
	}
	return append(errs, checkPool(s)...)
}

// checkArrival checks the arrival process of an arrival-rate executor.
func checkArrival(s *Scenario) []error {
	if s.Arrival != Uniform && s.Arrival != Poisson {
		return []error{fmt.Errorf("arrival %q is unknown (want one of %v)", s.Arrival, Arrivals)}
	}
	return nil
}

// checkIterations checks per-vu-iterations' and shared-iterations' fields.
func checkIterations(s *Scenario) []error {
	var errs []error
	if s.VUs < 1 {
		errs = append(errs, fmt.Errorf("vus %d must be >= 1", s.VUs))
	}
	if s.Iterations < 1 {
		errs = append(errs, fmt.Errorf("iterations %d must be >= 1", s.Iterations))
	}
	if s.MaxDuration <= 0 {
		errs = append(errs, fmt.Errorf("maxDuration %s must be > 0", s.MaxDuration))
	}
	if s.Executor == SharedIterations && s.Iterations >= 1 && s.Iterations < s.VUs {
		errs = append(errs, fmt.Errorf("iterations %d must be >= vus %d: a VU would have nothing to do", s.Iterations, s.VUs))
	}
	return errs
}

// checkData reads the scenario's data file when Rows is not set yet, and
// checks its order.
func checkData(s *Scenario) []error {
	var errs []error
	if s.DataOrder != RoundRobin && s.DataOrder != Random {
		errs = append(errs, fmt.Errorf("dataOrder %q is unknown (want one of %v)", s.DataOrder, DataOrders))
	}
	if s.Data != "" && s.Rows == nil {
		rows, err := ReadDataFile(s.Data)
		if err != nil {
			return append(errs, err)
		}
		s.Rows = rows
	}
	return errs
}

// checkConstantVUs checks constant-vus's fields.
func checkConstantVUs(s *Scenario) []error {
	var errs []error
	if s.VUs < 1 {
		errs = append(errs, fmt.Errorf("vus %d must be >= 1", s.VUs))
	}
	if s.Duration <= 0 {
		errs = append(errs, fmt.Errorf("duration %s must be > 0", s.Duration))
	}
	return errs
}

// checkRampingVUs checks ramping-vus's fields.
func checkRampingVUs(s *Scenario) []error {
	var errs []error
	if *s.StartVUs < 0 {
		errs = append(errs, fmt.Errorf("startVUs %d is negative", *s.StartVUs))
	}
	if *s.GracefulRampDown < 0 {
		errs = append(errs, fmt.Errorf("gracefulRampDown %s is negative", *s.GracefulRampDown))
	}
	return append(errs, checkStages(s.Stages, "ramping-vus")...)
}

// checkStages checks the stages of a ramping executor.
func checkStages(stages []Stage, executor string) []error {
	var errs []error
	if len(stages) == 0 {
		errs = append(errs, fmt.Errorf("%s needs stages", executor))
	}
	var total time.Duration
	for i, st := range stages {
		if st.Duration < 0 || st.Target < 0 {
			errs = append(errs, fmt.Errorf("stage %d: duration %s and target %d must be >= 0", i, st.Duration, st.Target))
		}
		total += st.Duration
	}
	if len(stages) > 0 && total <= 0 {
		errs = append(errs, errors.New("stages last no time"))
	}
	return errs
}

// stepDrivers resolves each step's driver.
func stepDrivers(s *Scenario, drivers map[Protocol]Driver) ([]Driver, []error) {
	var errs []error
	ds := make([]Driver, len(s.Steps))
	for i := range s.Steps {
		st := &s.Steps[i]
		p := st.Protocol()
		if p == "" {
			errs = append(errs, fmt.Errorf("step %d (%q) names no operation (e.g. http:)", i, st.Name))
			continue
		}
		if ds[i] = drivers[p]; ds[i] == nil {
			errs = append(errs, fmt.Errorf("step %d (%q): no driver for protocol %q", i, st.Name, p))
		}
	}
	return ds, errs
}
