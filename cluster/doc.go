// Package cluster splits one run's load across worker processes and puts
// their measurements back together exactly.
//
// Each worker runs a load.Segment of the one global load (arrival k of every
// arrival-rate schedule on worker k mod N, VU v of every closed-model
// population on worker v mod N) and ships its recorder interval by interval
// as Frames: the exact cells of metrics.Recorder (counts, error classes,
// raw samples or HDR histograms of every timing, the generator's own
// lateness included), keyed by (worker, attempt, interval). A Collector keeps
// the latest frame of each key and of each worker only the attempt that
// started, and builds one recorder from them that equals, bucket for
// bucket, the recorder of the same load run in one process.
//
// cluster owns the frames, their files and their merge; the coordinator's
// HTTP protocol (registration with the experiment's hash, a relative start
// delay, frame streaming and death detection) lives in coordinator.go and
// worker.go. It never runs the stack, the proxies or the fault timeline:
// that is the coordinator process's runner, exactly once. The coordinator
// tells its workers the timeline's edges (metrics.Edge) in its replies to
// their frames, so that a worker files an operation a fault met in flight
// under the fault, as one process does (metrics.Edges).
package cluster
