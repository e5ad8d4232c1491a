package config

// RotationMetric is the threshold metric of the rotation of a target's
// replicas around a fault, judged per episode and per replica the episode's
// faults act on:
//
//	out      time from the fault's apply to the end of the last interval
//	         in which the replica still received new work during the fault
//	         (requests for http, postgres and redis targets, connections for
//	         tcp); "not reached" when it still did at the fault's end
//	back     time from the fault's revert to the start of the first
//	         interval in which the replica received at least backShare of
//	         its fair share (the target's work over its replicas)
//	reached  the work that reached the replica between the fault's apply
//	         and out
//
//	degradation:
//	  "rotation{target:api}": ["out < 5s", "back < 10s", "reached < 200"]
//
// Rotation is judged only in degradation (the file's or a fault's own).
const RotationMetric = "rotation"

// rotationThresholds refuses rotation conditions outside degradation.
func (c *checker) rotationThresholds(section string, ts Thresholds) {
	for _, t := range ts {
		if t.Metric.Name == RotationMetric {
			c.errorAt(t.Pos, section+"."+t.Key, "%s is judged per fault episode; move it to degradation (the file's or a fault's)", t.Metric.Name)
		}
	}
}
