package host

import (
	"testing"
	"time"
)

// TestCPUQuota: a share of one core becomes a CFS quota per period; under
// 1% the quota stays at the kernel's smallest and the period grows.
func TestCPUQuota(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		share         float64
		quota, period time.Duration
	}{
		{0.2, 20 * time.Millisecond, 100 * time.Millisecond}, // 20 ms per 100 ms
		{2, 200 * time.Millisecond, 100 * time.Millisecond},  // two cores' worth
		{0.01, time.Millisecond, 100 * time.Millisecond},     // the smallest quota at 100 ms
		{0.005, time.Millisecond, 200 * time.Millisecond},    // the period doubles instead
		{0.001, time.Millisecond, time.Second},               // 1 ms per second
		{0.0001, time.Millisecond, time.Second},              // the longest period
	} {
		q, p := cpuQuota(c.share)
		if q != c.quota || p != c.period {
			t.Errorf("cpuQuota(%v) = %v per %v, want %v per %v", c.share, q, p, c.quota, c.period)
		}
	}
}
