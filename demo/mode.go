package demo

import "fmt"

// Mode is how the shop service treats failing dependencies.
type Mode string

// The service's modes.
const (
	// ModeGraceful bounds every dependency call with a short timeout, uses a
	// bounded PostgreSQL pool, answers 503 with Retry-After when PostgreSQL is
	// unavailable, serves product reads from the Redis cache when PostgreSQL
	// fails, retries a transaction PostgreSQL aborted on a conflict (40001
	// serialization_failure, 40P01 deadlock_detected), and never fails a
	// request because Redis does.
	ModeGraceful Mode = "graceful"
	// ModeNaive has none of that: no timeouts, every dependency error is a
	// 500, no stale-cache fallback, and a Redis error fails the request.
	ModeNaive Mode = "naive"
)

// ParseMode parses "graceful" or "naive"; "" is ModeGraceful.
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case "", ModeGraceful:
		return ModeGraceful, nil
	case ModeNaive:
		return ModeNaive, nil
	}
	return "", fmt.Errorf("demo mode %q: want %q or %q", s, ModeGraceful, ModeNaive)
}
