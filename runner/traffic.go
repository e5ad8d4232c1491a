package runner

import (
	"sync"
	"time"
)

// The traffic series: every replica's proxy counters sampled at each
// watch tick (the recorder's interval) and at the load's start and end,
// cumulative as the proxy counts them, so a load balancer's own
// per-server counters compare with them directly. A replica's work is
// what rotation follows: for an http, postgres or redis target the
// requests it received plus the connections it turned away at accept (a
// reset fault), for a tcp target its new connections.

// TargetTraffic is what a target's proxies carried over the run.
type TargetTraffic struct {
	Target   string `json:"target"`
	Protocol string `json:"protocol"`
	// Work is what the replicas' work counts: "requests" or
	// "connections".
	Work     string           `json:"work"`
	Replicas []ReplicaTraffic `json:"replicas"`
}

// ReplicaTraffic is one replica's series and its work per phase.
type ReplicaTraffic struct {
	// Name is the proxy's: the target's, or NAME[i].
	Name     string `json:"name"`
	Listen   string `json:"listen"`
	Upstream string `json:"upstream"`
	// Points are the cumulative counters at each sample, in time order.
	Points []TrafficPoint `json:"points"`
	// Phases is the replica's work in each phase of the run, and its share
	// of the target's.
	Phases []PhaseWork `json:"phases,omitempty"`
}

// TrafficPoint is a replica's proxy counters at one instant; every count
// is cumulative from the proxy's start but Active.
type TrafficPoint struct {
	// TS is when the counters were read, from the load's start (every
	// count happened before it).
	TS float64 `json:"t_s"`
	// Conns counts the connections accepted; Active those open now.
	Conns  int64 `json:"conns"`
	Active int64 `json:"active"`
	// Refused counts connections turned away at accept.
	Refused int64 `json:"refused,omitempty"`
	// Requests counts the requests started (protocol-aware targets);
	// Checks the health checks among them (an http target's checkPath),
	// counted apart.
	Requests int64 `json:"requests,omitempty"`
	Checks   int64 `json:"checks,omitempty"`
	// BytesUp and BytesDn are bytes written towards the upstream and back.
	BytesUp int64 `json:"bytes_up"`
	BytesDn int64 `json:"bytes_down"`
	// work is Requests+Refused or Conns, by the target's protocol.
	work int64
}

// PhaseWork is a replica's work in one phase.
type PhaseWork struct {
	Phase   string `json:"phase"`
	Episode int    `json:"episode,omitempty"`
	Work    int64  `json:"work"`
	// Share is Work over the target's work in the phase (0 without any).
	Share float64 `json:"share"`
}

// trafficSampler takes the samples. sample runs on the watch goroutine,
// mark on the timeline's: mu keeps them apart.
type trafficSampler struct {
	mu      sync.Mutex
	targets []trafficTarget
	// marks are the counters of the replicas each fault acted on, read
	// when its apply completed, by fault name and replica name.
	marks map[string]map[string]TrafficPoint
}

type trafficTarget struct {
	name, protocol string
	reps           []*replica
	points         [][]TrafficPoint
}

// newTrafficSampler follows the replicas of every running target.
func (r *run) newTrafficSampler() *trafficSampler {
	ts := &trafficSampler{marks: map[string]map[string]TrafficPoint{}}
	for _, t := range r.out.Targets {
		reps := r.replicas[t.Name]
		ts.targets = append(ts.targets, trafficTarget{name: t.Name, protocol: t.Protocol, reps: reps, points: make([][]TrafficPoint, len(reps))})
	}
	return ts
}

// sample reads every replica's counters, then the clock.
func (ts *trafficSampler) sample(now func() time.Duration) {
	if ts == nil {
		return
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for i := range ts.targets {
		t := &ts.targets[i]
		pts := make([]TrafficPoint, len(t.reps))
		for k, rep := range t.reps {
			pts[k] = read(rep, t.protocol)
		}
		at := seconds(now())
		for k := range pts {
			pts[k].TS = at
			t.points[k] = append(t.points[k], pts[k])
		}
	}
}

// mark reads the counters of the replicas fault acted on, at its apply.
func (ts *trafficSampler) mark(fault string, sel *Selection, reps []*replica, protocol string, at time.Duration) {
	if ts == nil || sel == nil {
		return
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	m := map[string]TrafficPoint{}
	for _, s := range sel.Replicas {
		p := read(reps[s.Index], protocol)
		p.TS = seconds(at)
		m[s.Name] = p
	}
	ts.marks[fault] = m
}

// read is one replica's counters now.
func read(rep *replica, protocol string) TrafficPoint {
	s := rep.p.Stats()
	p := TrafficPoint{
		Conns: int64(s.Accepted), Active: s.Active, Refused: int64(s.Refused), Requests: int64(s.Requests),
		Checks: int64(s.Checks), BytesUp: int64(s.BytesUp), BytesDn: int64(s.BytesDown),
	}
	p.work = workOf(p, protocol)
	return p
}

// workOf is what rotation counts as a replica's work.
func workOf(p TrafficPoint, protocol string) int64 {
	if countsRequests(protocol) {
		return p.Requests + p.Refused
	}
	return p.Conns
}

func countsRequests(protocol string) bool {
	return protocol == "http" || protocol == "postgres" || protocol == "redis"
}

// workName names a target's work.
func workName(protocol string) string {
	if countsRequests(protocol) {
		return "requests"
	}
	return "connections"
}

// traffic returns the series for the outcome.
func (ts *trafficSampler) traffic() []TargetTraffic {
	if ts == nil {
		return nil
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	var out []TargetTraffic
	for _, t := range ts.targets {
		tt := TargetTraffic{Target: t.name, Protocol: t.protocol, Work: workName(t.protocol)}
		for k, rep := range t.reps {
			tt.Replicas = append(tt.Replicas, ReplicaTraffic{
				Name: rep.name, Listen: rep.p.Addr(), Upstream: rep.upstream, Points: t.points[k],
			})
		}
		out = append(out, tt)
	}
	return out
}

// workAt is a replica's work by time at: the last sample taken by then,
// 0 before the first.
func workAt(pts []TrafficPoint, at float64) int64 {
	var w int64
	for _, p := range pts {
		if p.TS > at {
			break
		}
		w = p.work
	}
	return w
}

// fillPhaseWork sets each replica's work per phase, and its share of the
// target's.
func fillPhaseWork(tr []TargetTraffic, phases []Phase) {
	for i := range tr {
		reps := tr[i].Replicas
		for _, ph := range phases {
			if ph.EndS <= ph.StartS {
				continue
			}
			works := make([]int64, len(reps))
			var total int64
			for k := range reps {
				works[k] = workAt(reps[k].Points, ph.EndS) - workAt(reps[k].Points, ph.StartS)
				total += works[k]
			}
			for k := range reps {
				pw := PhaseWork{Phase: ph.Name, Episode: ph.Episode, Work: works[k]}
				if total > 0 {
					pw.Share = float64(works[k]) / float64(total)
				}
				reps[k].Phases = append(reps[k].Phases, pw)
			}
		}
	}
}
