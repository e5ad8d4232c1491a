package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chaosload/chaosload/config"
	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/load"
	"github.com/chaosload/chaosload/metrics"
)

// syntheticLoad is the load and steady state of the experiments judged on
// synthetic results (judgeSynthetic): 200 operations/s for 180 s, p95 under
// 100 ms and under 1% errors. Each appends its name, faults, degradation
// and recovery.
const syntheticLoad = `
version: 1
targets:
  api: {upstream: "127.0.0.1:9", protocol: http}
scenarios:
  users:
    executor: constant-arrival-rate
    rate: 200
    duration: 180s
    preAllocatedVUs: 10
    steps:
      - name: get
        http: {url: "http://${targets.api}/"}
thresholds:
  latency: ["p(95) < 100ms"]
  errors: ["rate < 1%"]
`

// twoEpisodes has two faults 60 s apart (more than the 45 s observation):
// two episodes. The second fault asks for a looser degradation and a
// longer recovery of its own.
const twoEpisodes = syntheticLoad + `name: two-episodes
faults:
  - {name: first, target: api, kind: down, startTime: 20s, duration: 10s}
  - name: second
    target: api
    kind: down
    startTime: 90s
    duration: 10s
    degradation: {errors: ["rate < 90%"]}
    recovery: {within: 60s}
degradation:
  errors: ["rate < 60%"]
recovery: {within: 30s, hold: 10s, window: 5s}
`

// TestJudgeTwoEpisodes judges synthetic results of a run of twoEpisodes:
// the first fault fails 80% of requests and the service takes 40 s to
// recover from it; the second fails 80% too (its own bound allows it) and
// recovers at once. Judged from the first apply to the last revert, with
// one recovery after the last fault, the run would pass (errors 12.5% over
// 20–100 s; recovered at once after 100 s); judged per episode, it fails on
// the first episode's degradation and recovery.
func TestJudgeTwoEpisodes(t *testing.T) {
	t.Parallel()
	o := judgeSynthetic(t, twoEpisodes, func(at time.Duration) (time.Duration, time.Duration, string) {
		lat, class := twoEpisodesService(at)
		return 0, lat, class
	}, nil, downAt("first", 20, 30), downAt("second", 90, 100))

	var phases []string
	for _, p := range o.Phases {
		phases = append(phases, fmt.Sprintf("%s/%d %g–%g", p.Name, p.Episode, p.StartS, p.EndS))
	}
	if got, want := strings.Join(phases, ", "), "warm-up/0 0–5, baseline/0 5–20, fault/1 20–30, recovery/1 30–69.75, steady/1 69.75–90, "+
		"fault/2 90–100, recovery/2 100–100, steady/2 100–180"; got != want {
		t.Errorf("phases\n got %s\nwant %s", got, want)
	}
	if o.Verdict != Failed || len(o.Episodes) != 2 {
		t.Fatalf("verdict %s with %d episodes, want failed with 2", o.Verdict, len(o.Episodes))
	}
	first, second := o.Episodes[0], o.Episodes[1]
	if first.Number != 1 || strings.Join(first.Faults, ",") != "first" || first.StartS != 20 || first.EndS != 30 || first.InEffectS != 10 {
		t.Errorf("episode 1 %+v", first)
	}
	if second.Number != 2 || strings.Join(second.Faults, ",") != "second" || len(second.Merged) != 0 {
		t.Errorf("episode 2 %+v", second)
	}
	// the first episode's own phase: 80% errors, failed against 60%
	if fp := first.FaultPhase; fp.Ops != 2000 || fp.Errors != 1600 {
		t.Errorf("episode 1 fault phase %+v, want 1600 errors of 2000", fp)
	}
	failed := failedOf(o)
	if want := "fault#1 errors: rate < 60% (rate = 80% (1600/2000))"; len(failed) != 1 || failed[0] != want {
		t.Errorf("failed checks %q, want only %q", failed, want)
	}
	if c := first.Checks; len(c) != 3 || c[0].Phase != "fault" || c[1].Phase != "steady" || c[2].Phase != "steady" {
		t.Errorf("episode 1 checks %+v, want its degradation and its steady thresholds", c)
	}
	// the second's own degradation (rate < 90%) replaced the file's
	if c := second.Checks; len(c) != 3 || c[0].Name != "errors: rate < 90%" || !c[0].Passed {
		t.Errorf("episode 2 checks %+v", c)
	}
	// recovery per episode: the first late past its 30 s, the second at once within its own 60 s
	if rr := first.Recovery; rr == nil || rr.Passed || rr.WithinS != 30 || rr.MeasuredS == nil || *rr.MeasuredS != 39.75 || rr.FaultEndS != 30 ||
		!strings.Contains(rr.Detail, "recovered late, at +39.75s") {
		t.Errorf("episode 1 recovery %+v", rr)
	}
	if rr := second.Recovery; rr == nil || !rr.Passed || rr.WithinS != 60 || rr.MeasuredS == nil || *rr.MeasuredS != 0 {
		t.Errorf("episode 2 recovery %+v", rr)
	}
	if o.Recovery == nil || *o.Recovery.MeasuredS != 0 || o.Recovery.FaultEndS != 100 {
		t.Errorf("outcome recovery %+v, want the last episode's", o.Recovery)
	}
	if b, err := json.Marshal(o); err != nil || !strings.Contains(string(b), `"episodes":[{"number":1,"faults":["first"],"start_s":20,"end_s":30,"in_effect_s":10,"fault_phase":{"name":"fault","start_s":20,"end_s":30,"episode":1,`) {
		t.Errorf("json (%v):\n%.600s", err, b)
	}
}

// synthetic says what an operation intended at t did: how late the
// generator handed it on, how long the target then took, and its class.
type synthetic func(t time.Duration) (late, took time.Duration, class string)

// judgeSynthetic judges a run of the experiment in yaml whose 180 s of load
// (200 operations/s, scenario users) did what op says, whose faults were in
// effect as records say, and whose generator offered what offered says
// (nil: not counted), as the runner judges a real one.
func judgeSynthetic(t *testing.T, yaml string, op synthetic, offered func(from, to time.Duration) []load.Offer, records ...faults.Record) *Outcome {
	t.Helper()
	exp, err := config.Parse("synthetic.yaml", []byte(yaml), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := newRun(exp, Options{})
	t.Cleanup(r.close)
	rec := metrics.NewRecorder(metrics.Config{})
	for at := time.Duration(0); at < 180*time.Second; at += 5 * time.Millisecond {
		late, took, class := op(at)
		rec.Record(&load.Result{Scenario: "users", Step: "get", Protocol: load.HTTP, Target: "api",
			Intended: at, Dispatched: at + late, Start: at + late, End: at + late + took, Class: class})
	}
	r.m = &measurement{rec: rec, loadEnd: 180 * time.Second, records: records, offered: offered}
	r.judge()
	r.decide(context.Background())
	return r.out
}

// downAt is the record of the fault name of target api, in effect from
// the from-th to the to-th second of the load.
func downAt(name string, from, to int) faults.Record {
	return faults.Record{Name: name, Kind: "down", Target: "api",
		Applied: time.Duration(from) * time.Second, Reverted: time.Duration(to) * time.Second, WasApplied: true, WasReverted: true}
}

// twoEpisodesService is what the synthetic service did with a request
// intended at t: 80% fast 503s during each fault, 300 ms answers for 40 s
// after the first.
func twoEpisodesService(t time.Duration) (time.Duration, string) {
	const s = time.Second
	inFault := (t >= 20*s && t < 30*s) || (t >= 90*s && t < 100*s)
	switch {
	case inFault && (t/(5*time.Millisecond))%5 < 4:
		return 2 * time.Millisecond, load.ClassHTTP503
	case t >= 30*s && t < 70*s:
		return 300 * time.Millisecond, ""
	}
	return 20 * time.Millisecond, ""
}

func failedOf(o *Outcome) []string {
	var out []string
	for _, c := range o.Checks {
		if !c.Passed && !c.Skipped {
			out = append(out, fmt.Sprintf("%s#%d %s (%s)", c.Phase, c.Episode, c.Name, c.Observed))
		}
	}
	return out
}
