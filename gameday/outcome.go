package gameday

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/metrics"
	"github.com/chaosload/chaosload/runner"
)

// Verdict is the verdict of a game-day session's Outcome: a session is
// observed, not judged.
const Verdict runner.Verdict = "game-day"

// Outcome is the whole session as a runner.Outcome, so package report
// renders it: the load's intervals, the proxies' counters, every fault
// applied (from the audit log) and the audit log itself. Call it after
// Close for the final figures.
func (s *Session) Outcome() *runner.Outcome {
	now := s.Now()
	o := &runner.Outcome{
		SchemaVersion: runner.SchemaVersion, Experiment: s.exp.Name, File: s.exp.File,
		Description: s.exp.Description, Verdict: Verdict, Passed: true, Seed: s.env.Seed(),
		StartedAt: s.clock.Epoch.UTC(), DurationS: now.Seconds(), Stack: s.env.Stack(),
		Warnings: []string{"game-day session: observed, not judged (no verdict)"},
	}
	s.mu.Lock()
	for _, n := range s.targetNamesLocked() {
		t := s.targets[n]
		st := t.p.Stats()
		o.Targets = append(o.Targets, runner.TargetResult{
			Name: n, Protocol: t.protocol, Listen: st.Addr, Upstream: st.Upstream, ProxyCounts: runner.CountsOf(st),
		})
	}
	s.mu.Unlock()
	step, ivs := s.rec.Series() // past the recent hour, at the downsampled step
	o.IntervalS = step.Seconds()
	for _, iv := range ivs {
		o.Intervals = append(o.Intervals, runner.Interval{
			TS: iv.T.Seconds(), Ops: iv.Ops, Errors: iv.Errors,
			P50MS: millis(iv.P50), P95MS: millis(iv.P95), P99MS: millis(iv.P99), ByClass: iv.ByClass,
		})
	}
	o.Totals = totals(s.rec.Window(0, now+time.Hour, metrics.Selector{}))
	o.Faults = s.faultResults()
	for _, e := range s.Audit() {
		o.Audit = append(o.Audit, runner.AuditRecord{
			Time: e.Time, Who: e.Who, Action: e.Action, Target: e.Target, Fault: e.Fault, Detail: detailString(e.Detail),
		})
	}
	return o
}

func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func totals(a metrics.Aggregate) runner.Totals {
	return runner.Totals{Ops: a.Ops, Errors: a.Errors, Dropped: a.ByClass[load.ClassDropped], ByClass: a.ByClass}
}

// faultResults pairs each apply in the audit log with its revert.
func (s *Session) faultResults() []runner.FaultResult {
	var out []runner.FaultResult
	open := map[string]int{}
	epoch := s.clock.Epoch
	for _, e := range s.Audit() {
		key := e.Target + "/" + e.Fault
		at := e.Time.Sub(epoch.UTC()).Seconds()
		switch e.Action {
		case "apply-fault", "add-toxic":
			kind, _ := e.Detail["kind"].(string)
			open[key] = len(out)
			out = append(out, runner.FaultResult{Name: e.Fault, Kind: kind, Target: e.Target, AppliedS: &at})
		case "revert-fault", "remove-toxic":
			if i, ok := open[key]; ok {
				out[i].RevertedS = &at
				delete(open, key)
			}
		case "reset", "revert-all":
			for k, i := range open {
				out[i].RevertedS = &at
				delete(open, k)
			}
		}
	}
	return out
}

func detailString(m map[string]any) string {
	if len(m) == 0 {
		return ""
	}
	keys := sortedKeys(m)
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%v", k, m[k]))
	}
	return strings.Join(parts, " ")
}
