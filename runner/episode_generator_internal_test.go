package runner

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chaosload/chaosload/load"
)

// The generator rule per fault episode: each episode's checks and recovery
// are judged with and without the generator's own lateness, and what the
// lateness decides is named with its episode.

// lateEpisodes has two faults 60 s apart (more than the 17 s observation):
// two episodes, each judged against a 50 ms latency degradation and
// recovering to a 100 ms steady state within 10 s.
const lateEpisodes = syntheticLoad + `name: late-episodes
faults:
  - {name: first, target: api, kind: down, startTime: 20s, duration: 10s}
  - {name: second, target: api, kind: down, startTime: 90s, duration: 10s}
degradation:
  latency: ["p(95) < 50ms"]
  errors: ["rate < 60%"]
recovery: {within: 10s, hold: 5s, window: 2s}
`

// service is a synthetic run of lateEpisodes: a target that answers every
// operation in 20 ms, except that the generator hands some on late, and
// the target answers slowly in some stretches.
type service struct {
	// lateEvery10th: in [from, to) every tenth operation is handed on late
	// by late.
	lateEvery10th struct{ from, to, late time.Duration }
	// lateAll: in [from, to) every operation is handed on late by late.
	lateAll struct{ from, to, late time.Duration }
	// slow: in [from, to) the target takes 300 ms.
	slow struct{ from, to time.Duration }
}

func (sv service) op(t time.Duration) (late, took time.Duration, class string) {
	took = 20 * time.Millisecond
	if s := sv.slow; t >= s.from && t < s.to {
		took = 300 * time.Millisecond
	}
	if l := sv.lateEvery10th; t >= l.from && t < l.to && (t/(5*time.Millisecond))%10 == 0 {
		late = l.late
	}
	if l := sv.lateAll; t >= l.from && t < l.to {
		late = l.late
	}
	return late, took, ""
}

// judgeLateEpisodes judges sv as a run of lateEpisodes.
func judgeLateEpisodes(t *testing.T, sv service) *Outcome {
	t.Helper()
	return judgeSynthetic(t, lateEpisodes, sv.op, nil, downAt("first", 20, 30), downAt("second", 90, 100))
}

// TestEpisodeFaultCheckFlips: a generator late by 100 ms on every tenth
// operation of the first episode's fault phase fails its 50 ms latency
// degradation as measured (p95 120 ms), which holds without the lateness
// (20 ms): the check is inconclusive and named with its episode, while the
// second episode, on time, passes both ways. The run is inconclusive, not
// failed: nothing failed both ways.
func TestEpisodeFaultCheckFlips(t *testing.T) {
	t.Parallel()
	var sv service
	sv.lateEvery10th.from, sv.lateEvery10th.to, sv.lateEvery10th.late = 20*time.Second, 30*time.Second, 100*time.Millisecond
	o := judgeLateEpisodes(t, sv)
	if o.Verdict != Inconclusive || len(o.Episodes) != 2 {
		t.Fatalf("verdict %s with %d episodes, want inconclusive with 2; inconclusive %q", o.Verdict, len(o.Episodes), o.Inconclusive)
	}
	want := "fault #1 latency: p(95) < 50ms fails with the generator's own lateness (p95 = 120ms) and holds without it (p95 = 20ms): its lateness added 100ms"
	if len(o.Inconclusive) != 1 || o.Inconclusive[0] != want {
		t.Fatalf("inconclusive %q\nwant [%q]", o.Inconclusive, want)
	}
	first, second := o.Episodes[0], o.Episodes[1]
	c := first.Checks[0]
	if c.Name != "latency: p(95) < 50ms" || c.Episode != 1 || !c.Inconclusive || c.Passed || c.Failed() ||
		c.WithoutLateness == nil || !c.WithoutLateness.Passed {
		t.Errorf("episode 1's latency check %+v (without lateness %+v), want inconclusive", c, c.WithoutLateness)
	}
	for _, c := range append(first.Checks[1:], second.Checks...) {
		if !c.Passed || c.Inconclusive {
			t.Errorf("check %s #%d %s: %s, want passed both ways", c.Phase, c.Episode, c.Name, c.Observed)
		}
	}
	if c := second.Checks[0]; c.Name != "latency: p(95) < 50ms" || c.WithoutLateness == nil || !c.WithoutLateness.Passed {
		t.Errorf("episode 2's latency check %+v, want judged both ways and passed", c)
	}
	for _, e := range o.Episodes {
		if r := e.Recovery; r == nil || !r.Passed || r.Inconclusive || r.WithoutLateness == nil || !r.WithoutLateness.Passed {
			t.Errorf("episode %d recovery %+v, want passed both ways", e.Number, r)
		}
	}
}

// TestEpisodeRecoveryFlips: after the first episode's fault, the target is
// back at 20 ms at once but the generator stays 150 ms late on every
// operation for 20 s: as measured, episode 1 recovers only at +20 s, past
// its 10 s bound; without the lateness, at once. Its recovery is
// inconclusive and named "recovery #1". A second episode whose target stays
// slow (300 ms) for 40 s after its fault fails its recovery both ways,
// which fails the run whatever the generator did to the first.
func TestEpisodeRecoveryFlips(t *testing.T) {
	t.Parallel()
	const s = time.Second
	for _, tt := range []struct {
		name    string
		slow    bool // the target slow for 40 s after the second fault
		verdict Verdict
	}{
		// only the generator's lateness keeps episode 1 from recovering in time
		{"recovery #1 flips", false, Inconclusive},
		// episode 2 fails its recovery with and without the lateness
		{"recovery #2 fails both ways", true, Failed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var sv service
			sv.lateAll.from, sv.lateAll.to, sv.lateAll.late = 30*s, 50*s, 150*time.Millisecond
			if tt.slow {
				sv.slow.from, sv.slow.to = 100*s, 140*s
			}
			o := judgeLateEpisodes(t, sv)
			if o.Verdict != tt.verdict || len(o.Episodes) != 2 {
				t.Fatalf("verdict %s with %d episodes, want %s with 2; inconclusive %q", o.Verdict, len(o.Episodes), tt.verdict, o.Inconclusive)
			}
			r := o.Episodes[0].Recovery
			if r == nil || !r.Inconclusive || r.Passed || r.Failed() || r.MeasuredS == nil || *r.MeasuredS != 20 ||
				r.WithoutLateness == nil || !r.WithoutLateness.Passed || r.WithoutLateness.MeasuredS == nil || *r.WithoutLateness.MeasuredS != 0 {
				t.Fatalf("episode 1 recovery %+v (without lateness %+v): want recovered at +20s as measured, at once without", r, r.WithoutLateness)
			}
			want := "recovery #1 within 10s fails with the generator's own lateness (not recovered within 10s: latency p95 still 170ms at +10s; " +
				"recovered late, at +20s) and holds without it (recovered in 0s)"
			if len(o.Inconclusive) != 1 || o.Inconclusive[0] != want {
				t.Fatalf("inconclusive %q\nwant [%q]", o.Inconclusive, want)
			}
			if b, err := json.Marshal(o.Episodes[0]); err != nil || !strings.Contains(string(b),
				`"inconclusive":true,"without_lateness":{"observed":"recovered in 0s","value":null,"passed":true,"measured_s":0}}`) {
				t.Errorf("episode 1 as JSON (%v): %s", err, b)
			}
			// the steady phase of episode 1 starts where recovery was measured
			if p := findPhaseIn(o.Phases, "steady", 1); p == nil || p.StartS != 50 {
				t.Errorf("steady #1 %+v, want from 50s", p)
			}
			r2 := o.Episodes[1].Recovery
			if r2 == nil || r2.Inconclusive || r2.WithoutLateness == nil || r2.Passed == tt.slow || r2.Failed() != tt.slow {
				t.Errorf("episode 2 recovery %+v (without lateness %+v), want failed both ways: %v", r2, r2.WithoutLateness, tt.slow)
			}
			if o.Recovery == nil || o.Recovery.FaultEndS != r2.FaultEndS || o.Recovery.Passed != r2.Passed {
				t.Errorf("outcome recovery %+v, want the last episode's", o.Recovery)
			}
		})
	}
}

// TestOfferedPerEpisode: offered load is counted per judged phase with its
// episode: a cascade's fault phase once, over both its stretches and not
// the gap between them. A generator that misses the arrivals of the last
// 5 s of the second stretch falls 1000 short of the episode's 4000: named
// as "fault #1".
func TestOfferedPerEpisode(t *testing.T) {
	t.Parallel()
	const s = time.Second
	count := func(from, to time.Duration) int64 { return max(int64((to-from)/(5*time.Millisecond)), 0) }
	offered := func(from, to time.Duration) []load.Offer {
		return []load.Offer{{Scenario: "users", Intended: count(from, to), Missed: count(max(from, 45*s), min(to, 50*s))}}
	}
	var sv service
	o := judgeSynthetic(t, lateEpisodes, sv.op, offered, downAt("first", 20, 30), downAt("second", 40, 50))
	var got []string
	for _, off := range o.Generator.Offered {
		got = append(got, PhaseLabel(off.Phase, off.Episode))
	}
	if strings.Join(got, ", ") != "baseline, fault #1, steady #1" {
		t.Fatalf("offered in %q, want the baseline, the episode's fault phase once and its steady phase", got)
	}
	if f := o.Generator.Offered[1]; f.Intended != 4000 || f.Made != 3000 || !f.Short {
		t.Errorf("fault #1 offered %+v, want 3000 of 4000 made over both stretches, short", f)
	}
	want := `fault #1: scenario "users" made 3000 of the 4000 arrivals it intended (75.0%, 0 dropped for want of a VU): the generator fell 1000 short on its own`
	if o.Verdict != Inconclusive || len(o.Inconclusive) != 1 || o.Inconclusive[0] != want {
		t.Fatalf("verdict %s, inconclusive %q\nwant [%q]", o.Verdict, o.Inconclusive, want)
	}
}

// findPhaseIn returns the first phase called name of the episode.
func findPhaseIn(ps []Phase, name string, episode int) *Phase {
	for i := range ps {
		if ps[i].Name == name && ps[i].Episode == episode {
			return &ps[i]
		}
	}
	return nil
}
