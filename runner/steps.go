package runner

import (
	"time"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/metrics"
)

// StepResult is what one step of a scenario did over the whole run: what
// the readiness report reads to tell which step dominates latency, and how
// much work one operation of a bulk step carries.
type StepResult struct {
	Scenario string `json:"scenario"`
	Name     string `json:"name"`
	// Protocol is http, ws, pg or redis.
	Protocol string `json:"protocol"`
	// Batch is how many commands one operation carries: a Redis step's
	// commands (its pipeline's, or one) times its repeat; 1 otherwise.
	Batch int `json:"batch"`
	// BodyBytes is the body each operation of an HTTP step with bodySize
	// sends; 0 otherwise.
	BodyBytes int64 `json:"body_bytes,omitempty"`
	// Ops and Errors count its operations and those that failed; the
	// latency percentiles are of all of them (0 without any).
	Ops    int64   `json:"ops"`
	Errors int64   `json:"errors"`
	P50MS  float64 `json:"p50_ms"`
	P95MS  float64 `json:"p95_ms"`
	P99MS  float64 `json:"p99_ms"`
}

// steps sums up every step of every scenario over the operations intended
// in [from, to), in file order.
func steps(rec *metrics.Recorder, exp *config.Experiment, from, to time.Duration) []StepResult {
	var out []StepResult
	for _, sc := range exp.Scenarios {
		for _, st := range sc.Steps {
			a := rec.Window(from, to, metrics.Selector{Scenario: sc.Name, Step: st.Name})
			s := StepResult{Scenario: sc.Name, Name: st.Name, Protocol: string(st.Protocol()), Batch: batch(st),
				Ops: a.Ops, Errors: a.Errors}
			if st.HTTP != nil {
				s.BodyBytes = int64(st.HTTP.BodySize)
			}
			if a.Latency != nil && a.Latency.TotalCount() > 0 {
				s.P50MS = ms(metrics.Micros(a.Latency.ValueAtQuantile(50)))
				s.P95MS = ms(metrics.Micros(a.Latency.ValueAtQuantile(95)))
				s.P99MS = ms(metrics.Micros(a.Latency.ValueAtQuantile(99)))
			}
			out = append(out, s)
		}
	}
	return out
}

// batch is how many commands one operation of st carries.
func batch(st load.Step) int {
	r := st.Redis
	if r == nil {
		return 1
	}
	n := max(len(r.Pipeline), 1)
	return n * max(r.Repeat, 1)
}
