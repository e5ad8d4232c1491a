package runner

// StressResult is the breaking-point search of a `stress:` section.
type StressResult struct{}
