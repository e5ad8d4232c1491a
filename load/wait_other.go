//go:build !linux

package load

import "time"

// canSleepPrecisely: no absolute kernel sleep here; waits use the timer.
const canSleepPrecisely = false

// sleepUntil is not used where canSleepPrecisely is false.
func sleepUntil(Clock, time.Duration) {}
