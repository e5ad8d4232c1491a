package faults

import "time"

// SetHoldPoll sets the slow poll of a pool-exhaustion action, so that a test
// counts polls without waiting a second for each.
func SetHoldPoll(a Action, d time.Duration) { a.(*poolExhaustion).cfg.poll = d }
