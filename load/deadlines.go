package load

import (
	"context"
	"time"
)

// stopContexts returns a scenario's two nested deadlines, as k6's
// getDurationContexts does:
//
//	start ──────────── regular span ────────────┐ soft: no new iteration
//	                                             ├── grace ──┐ hard: running
//	                                                         │ iterations cancelled
//
// soft is a child of hard, so it is done whenever hard is. Both are absolute
// instants on the load's clock, never "duration from now". cancel releases
// both.
func stopContexts(parent context.Context, c Clock, end, grace time.Duration) (soft, hard context.Context, cancel func()) {
	hard, cancelHard := context.WithDeadline(parent, c.At(end+grace))
	soft, cancelSoft := context.WithDeadline(hard, c.At(end))
	return soft, hard, func() {
		cancelSoft()
		cancelHard()
	}
}
