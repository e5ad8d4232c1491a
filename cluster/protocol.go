package cluster

import (
	"time"

	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/metrics"
)

// The coordinator's HTTP API, plain JSON over HTTP:
//
//	POST /v1/register  registration → startReply   held open until every
//	                                                 worker is there
//	POST /v1/frames    framesRequest → framesReply   frames, heartbeat, done
//
// A worker registers with its index and the experiment's hash; the reply
// comes once all N have registered: the attempt the coordinator gave it,
// the run's seed and resolved addresses, and a start delay relative to the
// moment of the reply (clocks need not agree). It then posts its frames
// every FrameEvery, an empty post being its heartbeat, and a last post
// marked done. Each reply carries the fault timeline's edges so far, by
// which the worker files the operations a fault met in flight (see
// metrics.Edges) as the coordinator's process would.
const (
	pathRegister = "/v1/register"
	pathFrames   = "/v1/frames"
)

// registration is a worker's request to join.
type registration struct {
	Worker int    `json:"worker"`
	Hash   string `json:"hash"`
}

// startReply tells a registered worker how to run.
type startReply struct {
	Attempt int `json:"attempt"`
	Workers int `json:"workers"`
	// Delay is how long after receiving the reply the load starts.
	Delay time.Duration `json:"delay"`
	// Seed is the run's seed.
	Seed int64 `json:"seed"`
	// Vars resolve ${targets.NAME} and ${stack.NAME}.
	Vars map[string]string `json:"vars"`
}

// framesRequest carries a worker's frames; Done marks its last, which
// carries the worker's view of its own health.
type framesRequest struct {
	Worker  int          `json:"worker"`
	Attempt int          `json:"attempt"`
	Frames  []Frame      `json:"frames,omitempty"`
	Done    bool         `json:"done,omitempty"`
	Health  *load.Health `json:"health,omitempty"`
}

// framesReply tells a worker whether to stop its load early (the run was
// interrupted or aborted), and the fault timeline's edges so far: the
// instants that began, when, and when their first fault was applied, on
// the load's clock (the worker's epoch is the start it was given).
type framesReply struct {
	Stop  bool           `json:"stop,omitempty"`
	Edges []metrics.Edge `json:"edges,omitempty"`
}

// apiError is the body of a refusal.
type apiError struct {
	Error string `json:"error"`
}
