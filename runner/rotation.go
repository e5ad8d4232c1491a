package runner

import (
	"fmt"
	"time"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/slo"
)

// Rotation: for each fault on a target of several replicas, and each
// replica it acted on, measured from the traffic series (traffic.go):
//
//	applied                  last interval with work        reverted      back
//	   │◀──────────── out ─────────────▶│                        │◀──────▶│
//	   ├───┬───┬───┬───┬───┬───┬───┬───┤ ░░ no work ░░ ┬───┬───┬┤────┬───┤≥ share × fair
//	       reached: the work between applied and out
//
// out is from the apply's completion to the end of the last interval in
// which the replica still received work during the fault; when it still
// did in the fault's last interval, out is not reached. back is from the
// revert's completion to the start of the first interval in which the
// replica received at least the target's backShare of its fair share (the
// target's work in that interval over its replicas).

// RotationResult is one replica's rotation around one fault.
type RotationResult struct {
	Fault   string `json:"fault"`
	Target  string `json:"target"`
	Replica string `json:"replica"`
	Index   int    `json:"index"`
	// OutS is the time out of rotation; nil when not reached (Note says
	// why).
	OutS *float64 `json:"out_s"`
	// BackS is the time back in rotation; nil when not reached by the end
	// of the load.
	BackS *float64 `json:"back_s"`
	// Reached counts the work that reached the replica from the apply to
	// out (to the revert when out was not reached).
	Reached int64 `json:"reached"`
	// Share is the share of its fair share back counts (backShare).
	Share float64 `json:"share"`
	// Note says why out or back was not reached.
	Note string `json:"note,omitempty"`
}

// rotations measures every fault of the episodes on a target of several
// replicas.
func (r *run) rotations(eps []slo.Episode, tr []TargetTraffic) map[int][]RotationResult {
	out := map[int][]RotationResult{}
	for _, ep := range eps {
		for _, fw := range ep.Faults {
			rec, ok := r.faultRecord(fw.Name)
			sel := r.selections[fw.Name]
			t := r.exp.Target(rec.Target)
			if !ok || sel == nil || t == nil || len(r.replicas[t.Name]) < 2 || !rec.WasApplied {
				continue
			}
			tt := trafficOf(tr, t.Name)
			for _, s := range sel.Replicas {
				rr := r.rotation(fw, tt, s, t)
				out[ep.Number] = append(out[ep.Number], rr)
			}
		}
	}
	return out
}

func trafficOf(tr []TargetTraffic, target string) *TargetTraffic {
	for i := range tr {
		if tr[i].Target == target {
			return &tr[i]
		}
	}
	return nil
}

// rotation measures one replica around one fault.
func (r *run) rotation(fw slo.FaultWindow, tt *TargetTraffic, s SelectedReplica, t *config.Target) RotationResult {
	rr := RotationResult{Fault: fw.Name, Target: t.Name, Replica: s.Name, Index: s.Index, Share: t.BackShareOrDefault()}
	if tt == nil || s.Index >= len(tt.Replicas) {
		rr.Note = "no traffic series"
		return rr
	}
	pts := tt.Replicas[s.Index].Points
	applied, reverted := fw.Applied.Seconds(), fw.Reverted.Seconds()
	start, marked := r.m.traffic.marked(fw.Name, s.Name)
	if !marked {
		start = TrafficPoint{TS: applied, work: workAt(pts, applied)}
	}
	outAt, lastWork, last := start, int64(0), start
	for _, p := range pts {
		if p.TS <= applied || p.TS > reverted {
			continue
		}
		if p.work > last.work {
			outAt = p
		}
		lastWork, last = p.work-last.work, p
	}
	rr.Reached = outAt.work - start.work
	if lastWork > 0 {
		rr.Reached = last.work - start.work
		rr.Note = fmt.Sprintf("%s still received %d %s in the last interval of the fault", s.Name, lastWork, tt.Work)
	} else {
		v := max(0, outAt.TS-applied)
		rr.OutS = &v
	}
	rr.BackS, rr.Note = backIn(tt, s, reverted, rr.Share, rr.Note)
	return rr
}

// backIn finds when replica s got back at least share of its fair share
// after reverted.
func backIn(tt *TargetTraffic, s SelectedReplica, reverted, share float64, note string) (*float64, string) {
	pts := tt.Replicas[s.Index].Points
	for k := 1; k < len(pts); k++ {
		if pts[k].TS <= reverted {
			continue
		}
		var total int64
		for _, rep := range tt.Replicas {
			if k < len(rep.Points) {
				total += rep.Points[k].work - rep.Points[k-1].work
			}
		}
		fair := float64(total) / float64(len(tt.Replicas))
		if total > 0 && float64(pts[k].work-pts[k-1].work) >= share*fair {
			v := max(0, pts[k-1].TS-reverted)
			return &v, note
		}
	}
	if note != "" {
		note += "; "
	}
	return nil, note + fmt.Sprintf("%s did not get %.0f%% of its fair share back by the end of the load", s.Name, share*100)
}

// faultRecord returns the timeline's record of the fault called name.
func (r *run) faultRecord(name string) (faults.Record, bool) {
	for _, rec := range r.m.records {
		if rec.Name == name {
			return rec, true
		}
	}
	return faults.Record{}, false
}

// marked returns the counters of replica read at fault's apply.
func (ts *trafficSampler) marked(fault, replica string) (TrafficPoint, bool) {
	if ts == nil {
		return TrafficPoint{}, false
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	p, ok := ts.marks[fault][replica]
	return p, ok
}

// judgeRotation judges each episode's rotation thresholds on its
// replicas' rotation: a check per condition and replica.
func (r *run) judgeRotation(eps []slo.Episode, rot map[int][]RotationResult) {
	for _, ep := range eps {
		for _, th := range ep.Degradation {
			if th.Metric.Name != config.RotationMetric {
				continue
			}
			target := th.Metric.Tag("target")
			found := false
			for _, rr := range rot[ep.Number] {
				if target == "" || rr.Target == target {
					found = true
					r.out.Checks = append(r.out.Checks, rotationCheck(th, ep.Number, rr))
				}
			}
			if !found {
				r.out.Checks = append(r.out.Checks, Check{
					Name: th.Key + ": " + th.Cond.Text, Phase: slo.PhaseFault, Episode: ep.Number, Expression: th.Cond.Text,
					Skipped: true, Observed: "not judged: no fault of the episode acted on replicas of " + or(target, "a target of several replicas"),
				})
			}
		}
	}
}

func or(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

// rotationCheck judges one condition on one replica's rotation.
func rotationCheck(th config.Threshold, episode int, rr RotationResult) Check {
	c := Check{
		Name: th.Key + ": " + th.Cond.Text + " (" + rr.Replica + ", fault " + rr.Fault + ")", Phase: slo.PhaseFault,
		Episode: episode, Expression: th.Cond.Text,
	}
	var v *float64
	switch th.Cond.Agg {
	case config.AggOut:
		v = msPtr(rr.OutS)
	case config.AggBack:
		v = msPtr(rr.BackS)
	case config.AggReached:
		f := float64(rr.Reached)
		v = &f
	}
	if v == nil {
		c.Observed = rr.Replica + ": " + string(th.Cond.Agg) + " not reached: " + rr.Note
		return c
	}
	c.Value, c.Passed = v, th.Cond.Holds(*v)
	if th.Cond.Agg == config.AggReached {
		c.Observed = fmt.Sprintf("%s: reached = %d", rr.Replica, rr.Reached)
	} else {
		c.Observed = fmt.Sprintf("%s: %s = %s", rr.Replica, th.Cond.Agg, time.Duration(*v*float64(time.Millisecond)).Round(time.Millisecond))
	}
	return c
}

func msPtr(s *float64) *float64 {
	if s == nil {
		return nil
	}
	v := *s * 1000
	return &v
}
