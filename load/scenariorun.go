package load

import (
	"context"
	"hash/fnv"
	"slices"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// scenarioRun is what every executor of one scenario shares: the scenario
// (a private copy with defaults applied), each step's driver, the sink, the
// clock, the seed, the counters and the generator's health watch.
type scenarioRun struct {
	sc      *Scenario
	drivers []Driver         // drivers[i] performs sc.Steps[i]
	enders  []IterationEnder // the distinct drivers that want EndIteration
	sink    Sink
	clock   Clock // set by Run before any goroutine starts
	seed    uint64
	ids     *atomic.Int64 // the run's VU ids
	local   uint64        // VUs made so far, owned by the executor's goroutine
	log     zerolog.Logger
	stats   counters
	health  *healthWatch
	offer   offerLog     // open model: the arrivals not made
	shared  atomic.Int64 // shared-iterations: iterations taken so far
	nextRow atomic.Int64 // round-robin data: rows taken so far
	// stall is Config.Stall: the open-model scheduler's test hook.
	stall func(scenario string, arrival int64) time.Duration
	seg   Segment // the part of the load this process offers
}

// executor runs one scenario's schedule. run returns only after every
// goroutine it started has exited, at the end of the scenario's span plus its
// graceful stop at the latest, or soon after ctx is done.
type executor interface {
	run(ctx context.Context)
}

// newExecutor picks the executor of s.sc.Executor.
func newExecutor(s *scenarioRun) executor {
	switch s.sc.Executor {
	case ConstantArrivalRate, RampingArrivalRate:
		return newArrivalRate(s)
	case ConstantVUs:
		return &constantVUs{s}
	case RampingVUs:
		return newRampingVUs(s)
	case PerVUIterations, SharedIterations:
		return &iterations{s}
	}
	panic("load: unchecked executor " + string(s.sc.Executor)) // New checked it
}

// newVU makes the scenario's next VU; its random stream is the VU's global
// number within the scenario (its index among the VUs of the whole load,
// see Segment), so it depends neither on other scenarios nor on how the
// load is split. Its ID is likewise unique across the workers of a run.
func (s *scenarioRun) newVU() *VU {
	id := s.seg.Global(s.ids.Add(1)-1) + 1
	vu := newVU(int(id), s.sc, s.clock, s.seed, uint64(s.seg.Global(int64(s.local))))
	s.local++
	return vu
}

// enders lists the distinct drivers that implement IterationEnder (such a
// driver is compared by ==, so it must be comparable: a pointer is).
func enders(drivers []Driver) []IterationEnder {
	var out []IterationEnder
	for _, d := range drivers {
		if e, ok := d.(IterationEnder); ok && !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}

// scenarioSeed derives a scenario's seed from the run's seed and its name,
// so two scenarios never share random streams.
func scenarioSeed(seed int64, name string) uint64 {
	h := fnv.New64a()
	var b [8]byte
	for i := range b {
		b[i] = byte(uint64(seed) >> (8 * i))
	}
	h.Write(b[:])
	h.Write([]byte(name))
	return h.Sum64()
}
