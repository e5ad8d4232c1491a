package readiness

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chaosload/chaosload/runner"
)

// judgement returns the judgement of criterion id.
func judgement(t *testing.T, a *Assessment, id string) Judgement {
	t.Helper()
	for _, j := range a.Judgements {
		if j.Criterion.ID == id {
			return j
		}
	}
	t.Fatalf("no criterion %q", id)
	return Judgement{}
}

func TestJudgeDefaultCriteria(t *testing.T) {
	t.Parallel()
	a := Assess(Default(), []*runner.Outcome{loadRun(), stressRun(), faultRun()})
	for _, tc := range []struct {
		id     string
		status Status
		shown  string
		run    string
	}{
		{"concurrent-users", Met, "100", "load-100-users"},        // the stress run is not tagged load
		{"p95-latency", Met, "40ms", "load-100-users"},            // the baseline's p95
		{"error-rate", Met, "0.2%", "load-100-users"},             // 100 of 50000
		{"cpu", Met, "30%", "load-100-users"},                     // 60% of one core on 2 cores
		{"memory", Met, "120MB", "load-100-users"},                // RSS peak
		{"memory-stable", Met, "50KB/min", "load-100-users"},      // the slope
		{"connections", Met, "60/s (3600/min)", "load-100-users"}, // from the conn_rate threshold's check
		{"sustained", Met, "180s", "load-100-users"},              // 3 minutes, passed
		{"requests-per-minute", Met, "277/s (16632/min)", "load-100-users"},
		{"operating-point", Met, "45ms", "stress-breaking-point"}, // p95 at 200 users
		{"stress-users", NotMet, "400", "stress-breaking-point"},  // it broke before 500
		{"breaking-point", Met, "found", "stress-breaking-point"}, // at 400
		{"overload-recovery", Met, "4s", "stress-breaking-point"}, // after dropping to 100
		{"monitoring", Met, "100%", "stress-breaking-point"},      // the health probe
		{"fault-recovery", Met, "3s", "db-exhaustion"},            // episode 1
		{"graceful-degradation", Met, "0", "db-exhaustion"},       // no failed fault check
		{"data-consistency", Met, "100%", "load-100-users"},       // every acknowledged write found (the first of equals)
		{"messages", NotMeasured, "", ""},                         // no websocket run
		{"bulk-transfer", NotMeasured, "", ""},                    // no bulk run
		{"no-regression", NotMeasured, "", ""},                    // no --baseline
	} {
		j := judgement(t, a, tc.id)
		run := ""
		if j.Decided != nil {
			run = j.Decided.Run
		}
		if j.Status != tc.status || j.Shown != tc.shown || run != tc.run {
			t.Errorf("%s: %s %q by %q, want %s %q by %q (%s)", tc.id, j.Status, j.Shown, run, tc.status, tc.shown, tc.run, j.Why)
		}
	}
	if j := judgement(t, a, "messages"); j.Why != `no experiment tagged "websocket" ran` {
		t.Errorf("messages not measured because %q", j.Why)
	}
}

func TestWorstRunDecides(t *testing.T) {
	t.Parallel()
	slow := loadRun()
	slow.Experiment = "slow"
	slow.Phases[0].P95MS = 140
	a := Assess(Default(), []*runner.Outcome{loadRun(), slow})
	j := judgement(t, a, "p95-latency")
	if j.Status != NotMet || j.Decided.Run != "slow" || j.Shown != "140ms" || j.Decided.Figure != "p95 of phase baseline" {
		t.Fatalf("p95 judged %s %q by %+v, want not met 140ms by slow", j.Status, j.Shown, j.Decided)
	}
}

func TestVerdictNotReadyNamesTheCriterion(t *testing.T) {
	t.Parallel()
	c, err := Parse("mine.yaml", []byte("version: 1\nname: mine\ncriteria:\n"+
		"  - {id: p95, text: p95 under 100 ms, tag: load, metric: p95_ms, expect: \"< 100ms\"}\n"+
		"  - {id: memory, text: memory under 100 MB, tag: load, metric: rss_peak, expect: \"< 100MB\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	a := Assess(c, []*runner.Outcome{loadRun()})
	if a.Verdict != NotReady {
		t.Fatalf("verdict %s, want not ready (120MB > 100MB)", a.Verdict)
	}
	want := "memory (memory under 100 MB): 120MB is not < 100MB in load-100-users, peak RSS of service+postgres"
	if a.Reasons[0] != want {
		t.Fatalf("reason %q, want %q", a.Reasons[0], want)
	}
}

func TestVerdicts(t *testing.T) {
	t.Parallel()
	mine := func(lines ...string) *Criteria {
		c, err := Parse("mine.yaml", []byte("version: 1\ncriteria:\n"+strings.Join(lines, "\n")+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	p95 := `  - {id: p95, tag: load, metric: p95_ms, expect: "< 100ms"}`
	failed := loadRun()
	failed.Verdict = runner.Failed
	failed.Checks = append(failed.Checks, runner.Check{Name: "errors: rate < 0.1%", Phase: "baseline", Observed: "rate = 0.2%"})
	inconclusive := loadRun()
	inconclusive.Verdict = runner.Inconclusive
	for _, tc := range []struct {
		name   string
		c      *Criteria
		outs   []*runner.Outcome
		want   Verdict
		reason string
	}{
		// everything met, every run passed
		{"ready", mine(p95), []*runner.Outcome{loadRun()}, Ready, "every criterion met and every experiment passed (1 criteria, 1 experiments)"},
		// an advisory criterion missed is a condition
		{"advisory", mine(p95, `  - {id: ws, text: many sockets, tag: load, metric: peak_vus, expect: ">= 1000", advisory: true}`),
			[]*runner.Outcome{loadRun()}, ReadyWithConditions, "advisory ws (many sockets) not met: 100 in load-100-users"},
		// not measured is a condition
		{"not measured", mine(p95, `  - {id: bulk, text: big, tag: bulk, metric: transfer_bytes, expect: "> 100MB"}`),
			[]*runner.Outcome{loadRun()}, ReadyWithConditions, `bulk (big) not measured: no experiment tagged "bulk" ran`},
		// a run that failed its own checks is a no, naming them
		{"run failed", mine(p95), []*runner.Outcome{failed}, NotReady,
			"experiment load-100-users failed: errors: rate < 0.1% in baseline: rate = 0.2%"},
		// an inconclusive run is a condition
		{"inconclusive", mine(p95), []*runner.Outcome{inconclusive}, ReadyWithConditions, "experiment load-100-users inconclusive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := Assess(tc.c, tc.outs)
			if a.Verdict != tc.want || a.Reasons[0] != tc.reason {
				t.Fatalf("%s %q, want %s %q", a.Verdict, a.Reasons, tc.want, tc.reason)
			}
		})
	}
}

func TestSections(t *testing.T) {
	t.Parallel()
	a := Assess(Default(), []*runner.Outcome{loadRun(), stressRun(), faultRun()})
	var users []float64
	for _, r := range a.Ladder {
		users = append(users, r.Users)
	}
	if got := fmt.Sprint(users); got != "[100 100 200 300 400]" {
		t.Errorf("ladder users %s, want 100,100,200,300,400", got)
	}
	if len(a.Recoveries) != 2 || a.Recoveries[0].What != "after overload" || a.Recoveries[1].What != "episode 1: pg-connections-exhausted" {
		t.Errorf("recoveries %+v", a.Recoveries)
	}
	if len(a.Capacity) != 1 || *a.Capacity[0].Capacity != 300 || a.Capacity[0].OKPerS != 1500 {
		t.Errorf("capacity %+v", a.Capacity)
	}
	var classes []string
	for _, e := range a.Errors {
		classes = append(classes, e.Run+"/"+e.Phase+"/"+e.Class)
	}
	if strings.Join(classes, " ") != "load-100-users/baseline/timeout" {
		t.Errorf("errors by class and phase: %v", classes)
	}
	r := a.Resources[0]
	if r.CPUHeadroom != "80% of one core below the bound (< 70%)" || r.MemHeadroom != "380MB below the bound (< 500MB)" {
		t.Errorf("headroom %q, %q", r.CPUHeadroom, r.MemHeadroom)
	}
}

func TestBestRunDecidesACapability(t *testing.T) {
	t.Parallel()
	big := stressRun()
	big.Tags = []string{"load", "stress"}
	a := Assess(Default(), []*runner.Outcome{loadRun(), big})
	j := judgement(t, a, "concurrent-users")
	if j.Status != Met || j.Shown != "300" || j.Decided.Run != "stress-breaking-point" || j.Measured != 2 {
		t.Fatalf("users held %s %q by %+v over %d, want 300 by the stress run over 2", j.Status, j.Shown, j.Decided, j.Measured)
	}
}

// TestOpenModelVUsAreNotUsers: an arrival-rate run's VUs are workers: no
// users held and no rung on the ladder.
func TestOpenModelVUsAreNotUsers(t *testing.T) {
	t.Parallel()
	open := loadRun()
	open.Generator.Offered = []runner.OfferedLoad{{Phase: "baseline", Scenario: "shoppers", Intended: 100, Made: 100}}
	a := Assess(Default(), []*runner.Outcome{open})
	if j := judgement(t, a, "concurrent-users"); j.Status != NotMeasured || len(a.Ladder) != 0 {
		t.Fatalf("users held %s %q, ladder %+v; want not measured and no rung", j.Status, j.Shown, a.Ladder)
	}
}

// TestShortRunHasNoMemoryTrend: a memory trend fitted over less than a
// minute after the warm-up is start-up growth: not measured; over a minute
// it is judged, with the span it was fitted over.
func TestShortRunHasNoMemoryTrend(t *testing.T) {
	t.Parallel()
	short := loadRun()
	short.DurationS = 18
	short.Resources.PrivateSlope, short.Resources.TrendFromS, short.Resources.TrendToS = ptr(300e6), 0.5, 18
	j := judgement(t, Assess(Default(), []*runner.Outcome{short}), "memory-stable")
	if j.Status != NotMeasured || j.Why != "the 1 run(s) measured no memory_trend" {
		t.Fatalf("memory trend of an 18 s run: %s %q (%s)", j.Status, j.Shown, j.Why)
	}
	minute := loadRun()
	minute.Resources.PrivateSlope, minute.Resources.TrendFromS, minute.Resources.TrendToS = ptr(12e6), 5, 65
	j = judgement(t, Assess(Default(), []*runner.Outcome{minute}), "memory-stable")
	if j.Status != NotMet || j.Decided.Figure != "private memory (RSS less shared pages) of service+postgres from 5s to 65s, after the warm-up" {
		t.Fatalf("memory trend over a minute: %s %q (%s)", j.Status, j.Shown, j.Decided.Figure)
	}
}

// TestQueuedCommands: a bulk run's Redis step queued 1,000 commands per
// operation (a step whose every operation failed does not count) and its
// HTTP step sent 120 MB bodies.
func TestQueuedCommands(t *testing.T) {
	t.Parallel()
	bulk := &runner.Outcome{Experiment: "bulk", Tags: []string{"bulk"}, Verdict: runner.Passed, Steps: []runner.StepResult{
		{Name: "queue", Protocol: "redis", Batch: 1000, Ops: 50, Errors: 2},
		{Name: "flood", Protocol: "redis", Batch: 5000, Ops: 10, Errors: 10},
		{Name: "upload", Protocol: "http", Batch: 1, BodyBytes: 120e6, Ops: 3},
	}}
	a := Assess(Default(), []*runner.Outcome{bulk})
	j := judgement(t, a, "queued-commands")
	if j.Status != Met || j.Shown != "1000" || j.Decided.Figure != "commands per operation of step queue (48 of 50 operations succeeded)" {
		t.Fatalf("queued commands %s %q by %+v", j.Status, j.Shown, j.Decided)
	}
	j = judgement(t, a, "bulk-transfer")
	if j.Status != Met || j.Shown != "120MB" || j.Decided.Figure != "the body of each operation of step upload (3 of 3 operations succeeded)" {
		t.Fatalf("bulk transfer %s %q by %+v", j.Status, j.Shown, j.Decided)
	}
}
