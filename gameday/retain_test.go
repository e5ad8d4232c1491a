package gameday

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/chaosload/chaosload/metrics"
	"github.com/chaosload/chaosload/report"
)

// TestDownsampledSessionServesDashboardAndReport runs a game day whose
// recorder keeps one second at full resolution (an hour by default), so
// background load moves into the downsampled past within seconds: the
// dashboard's live figures still come from the recent intervals, and the
// session report covers every operation, at the past's step, and renders.
func TestDownsampledSessionServesDashboardAndReport(t *testing.T) {
	t.Parallel()
	s, srv := session(t, experiment(t, okServer(t), loadFile), Config{Recent: time.Second, PushEvery: 20 * time.Millisecond})
	if got := call(t, srv.URL, "POST", "/chaosload/load/start", `{"scale":1}`, "", ""); got != http.StatusOK {
		t.Fatalf("start: %d", got)
	}
	waitFor(t, "operations in the downsampled past", func() bool {
		return s.rec.Step() == metrics.DefaultPast && s.rec.Window(0, time.Millisecond, metrics.Selector{}).Ops > 0
	})
	waitFor(t, "live figures on the dashboard", func() bool {
		snap := s.Snapshot()
		return len(snap.Targets) == 1 && snap.Targets[0].OpsPerSec > 0 && snap.Targets[0].P99MS > 0
	})
	s.StopLoad("test")

	o := s.Outcome()
	if o.IntervalS != metrics.DefaultPast.Seconds() {
		t.Errorf("report intervals of %gs, want the past's %gs", o.IntervalS, metrics.DefaultPast.Seconds())
	}
	var ops int64
	for _, iv := range o.Intervals {
		ops += iv.Ops
	}
	if ops == 0 || ops != o.Totals.Ops || o.Intervals[0].P99MS <= 0 {
		t.Errorf("report: %d operations in its intervals, %d in its totals, first p99 %gms; want the same, not zero",
			ops, o.Totals.Ops, o.Intervals[0].P99MS)
	}
	var html bytes.Buffer
	if err := report.HTML(&html, o); err != nil || !bytes.Contains(html.Bytes(), []byte("gameday-load")) {
		t.Fatalf("the session report does not render: %v", err)
	}
}
