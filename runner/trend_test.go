package runner

import (
	"testing"
	"time"

	"github.com/chaosload/chaosload/monitor"
)

// TestFillTrend: the private-memory trend is fitted after the warm-up only,
// so the start-up's jump does not count, and over the span it says.
func TestFillTrend(t *testing.T) {
	t.Parallel()
	const mb = 1 << 20
	var samples []monitor.Sample
	for s := range 66 { // one a second: 20 MB → 100 MB in the first 5 s, then +1 MB a minute
		private := uint64(100*mb + s*mb/60)
		if s < 5 {
			private = uint64(20*mb + s*16*mb)
		}
		samples = append(samples, monitor.Sample{At: time.Duration(s) * time.Second, Usage: monitor.Usage{Private: private}})
	}
	var res Resources
	fillTrend(&res, samples, 5*time.Second)
	if res.PrivateSlope == nil || res.TrendFromS != 5 || res.TrendToS != 65 {
		t.Fatalf("trend %v from %gs to %gs, want one from 5s to 65s", res.PrivateSlope, res.TrendFromS, res.TrendToS)
	}
	if got := *res.PrivateSlope / mb; got < 0.99 || got > 1.01 {
		t.Errorf("slope %.3f MB/min, want 1 (the start-up's 80 MB left out)", got)
	}
	var none Resources
	fillTrend(&none, samples[:6], 5*time.Second) // one sample after the warm-up
	if none.PrivateSlope != nil {
		t.Errorf("a trend from one sample: %v", *none.PrivateSlope)
	}
}
