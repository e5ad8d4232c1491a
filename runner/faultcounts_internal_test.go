package runner

import (
	"strings"
	"testing"
	"time"

	"github.com/chaosload/chaosload/faults"
)

// TestRecordFaultsTimeliness: a fault that took effect later than the
// recorder's interval, or was in effect for less than its duration, gets
// late_s / short_s and a warning saying by how much; one on time, a
// one-shot and one cut short by the run's end do not.
func TestRecordFaultsTimeliness(t *testing.T) {
	t.Parallel()
	s := time.Second
	ms := time.Millisecond
	tests := []struct {
		name        string
		rec         faults.Record
		late, short float64
		warnings    []string
	}{
		// applied 100 ms late, reverted on time: within the interval
		{"on time", faults.Record{Due: 40 * s, ApplyBegan: 40 * s, Applied: 40*s + 100*ms, Duration: 20 * s,
			RevertDue: 60 * s, RevertBegan: 60 * s, Reverted: 60 * s}, 0, 0, nil},
		// a slow apply: 7.5 s late, so 7.5 s short of its 20 s
		{"slow apply", faults.Record{Due: 40 * s, ApplyBegan: 40 * s, Applied: 47*s + 500*ms, Duration: 20 * s,
			RevertDue: 60 * s, RevertBegan: 60 * s, Reverted: 60 * s}, 7.5, 7.5,
			[]string{`took effect 7.5s late: due at 40.0s, its apply began at 40.0s and completed at 47.5s`,
				`was in effect for 12.5s of its 20s (7.5s short)`}},
		// its apply began late (the old sequential timeline), completed at once
		{"began late", faults.Record{Due: 40 * s, ApplyBegan: 45 * s, Applied: 45 * s},
			5, 0, []string{`took effect 5.0s late: due at 40.0s, its apply began at 45.0s`}},
		// its revert began early: short only
		{"reverted early", faults.Record{Due: 40 * s, ApplyBegan: 40 * s, Applied: 40 * s, Duration: 20 * s,
			RevertDue: 60 * s, RevertBegan: 59 * s, Reverted: 59 * s}, 0, 1, []string{`was in effect for 19.0s of its 20s (1.0s short)`}},
		// the run ended (abort) before the fault's end: not short, said elsewhere
		{"cut by the run", faults.Record{Due: 40 * s, ApplyBegan: 40 * s, Applied: 40 * s, Duration: 20 * s,
			RevertDue: 50 * s, RevertBegan: 50 * s, Reverted: 50 * s}, 0, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.rec.Name, tc.rec.WasApplied, tc.rec.WasReverted = "f", true, tc.rec.Reverted > 0
			r := &run{out: &Outcome{}}
			r.recordFaults([]faults.Record{tc.rec})
			f := r.out.Faults[0]
			if f.LateS != tc.late || f.ShortS != tc.short {
				t.Errorf("late_s %v short_s %v, want %v %v", f.LateS, f.ShortS, tc.late, tc.short)
			}
			var got []string
			for _, w := range r.out.Warnings {
				if !strings.Contains(w, "changed no traffic") {
					got = append(got, w)
				}
			}
			if len(got) != len(tc.warnings) {
				t.Fatalf("warnings %q, want %d", got, len(tc.warnings))
			}
			for i, w := range tc.warnings {
				if !strings.Contains(got[i], w) {
					t.Errorf("warning %q, want it to contain %q", got[i], w)
				}
			}
		})
	}
}
