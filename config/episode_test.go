package config

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestGroupEpisodes(t *testing.T) {
	t.Parallel()
	const s = time.Second
	def := Recovery{Within: 30 * s, Hold: 10 * s, Window: 5 * s}  // observation 45 s
	long := Recovery{Within: 60 * s, Hold: 10 * s, Window: 5 * s} // observation 75 s
	f := func(name string, start, end time.Duration) EpisodeFault {
		return EpisodeFault{Name: name, Start: start, End: end, Recovery: def}
	}
	tests := []struct {
		name   string
		faults []EpisodeFault
		want   [][]int  // members of each episode
		joins  []string // every join's sentence, in order
	}{
		// one fault, one episode
		{"one", []EpisodeFault{f("a", 40*s, 70*s)}, [][]int{{0}}, nil},
		// two faults 60 s apart (more than the observation): two episodes
		{"apart", []EpisodeFault{f("a", 10*s, 40*s), f("b", 100*s, 120*s)}, [][]int{{0}, {1}}, nil},
		// exactly the observation apart: recovery can be judged in between
		{"observation apart", []EpisodeFault{f("a", 10*s, 40*s), f("b", 85*s, 95*s)}, [][]int{{0}, {1}}, nil},
		// overlapping faults share an episode
		{"overlap", []EpisodeFault{f("pg-slow", 30*s, 75*s), f("redis-down", 45*s, 75*s)}, [][]int{{0, 1}},
			[]string{`faults "pg-slow" and "redis-down" form one episode: "redis-down" starts at 45s, while "pg-slow" is in effect (until 1m15s)`}},
		// a one-shot fault at the start of another (db-exhaustion's reset)
		{"one-shot with", []EpisodeFault{f("exhaust", 40*s, 70*s), f("reset", 40*s, 40*s)}, [][]int{{0, 1}},
			[]string{`faults "exhaust" and "reset" form one episode: "reset" starts at 40s, while "exhaust" is in effect (until 1m10s)`}},
		// a fault that starts as the other ends
		{"back to back", []EpisodeFault{f("reset", 40*s, 40*s), f("exhaust", 40*s, 70*s)}, [][]int{{0, 1}},
			[]string{`faults "reset" and "exhaust" form one episode: "exhaust" starts at 40s, as "reset" ends`}},
		// closer than the observation: a cascade
		{"cascade", []EpisodeFault{f("a", 10*s, 40*s), f("b", 52*s, 60*s)}, [][]int{{0, 1}},
			[]string{`faults "a" and "b" form one episode: "b" starts 12s after "a" ends, closer than the recovery observation within+hold+window = 45s (30s + 10s + 5s)`}},
		// the cascade goes on from the episode's end, not its first fault's
		{"chain", []EpisodeFault{f("a", 10*s, 40*s), f("b", 50*s, 55*s), f("c", 90*s, 95*s)}, [][]int{{0, 1, 2}},
			[]string{`"b" starts 10s after "a" ends`, `faults "b" and "c" form one episode: "c" starts 35s after "b" ends`}},
		// faults listed out of order are grouped by start
		{"unordered", []EpisodeFault{f("late", 200*s, 210*s), f("b", 45*s, 50*s), f("a", 10*s, 60*s)}, [][]int{{2, 1}, {0}},
			[]string{`"b" starts at 45s, while "a" is in effect`}},
		// a fault asking for a longer recovery lengthens its episode's observation
		{"long recovery", []EpisodeFault{{Name: "a", Start: 10 * s, End: 40 * s, Recovery: long}, f("b", 100*s, 110*s)}, [][]int{{0, 1}},
			[]string{`"b" starts 1m0s after "a" ends, closer than the recovery observation within+hold+window = 1m15s (1m0s + 10s + 5s)`}},
		// ...but only the faults before it count: a later one's recovery is about after it
		{"long recovery later", []EpisodeFault{f("a", 10*s, 40*s), {Name: "b", Start: 100 * s, End: 110 * s, Recovery: long}}, [][]int{{0}, {1}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			gs := GroupEpisodes(tt.faults)
			var got [][]int
			var joins []string
			for _, g := range gs {
				got = append(got, g.Members)
				for _, j := range g.Joins {
					joins = append(joins, j.String())
				}
			}
			if !slices.EqualFunc(got, tt.want, slices.Equal) {
				t.Errorf("episodes %v, want %v", got, tt.want)
			}
			if len(joins) != len(tt.joins) {
				t.Fatalf("joins %q, want %d", joins, len(tt.joins))
			}
			for i, want := range tt.joins {
				if !strings.Contains(joins[i], want) {
					t.Errorf("join %d: %q\nwant it to hold %q", i, joins[i], want)
				}
			}
		})
	}
}

// TestEpisodesCombineOverrides: an episode is judged by the union of its
// faults' degradation (each fault's own, else the file's) and the largest
// of their recovery settings. The file's recovery is {within: 20s}
// (observation 35 s); its degradation errors < 60%.
func TestEpisodesCombineOverrides(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		faults string // appended to chaos's faults (exhaust, 10–40 s)
		want   []string
	}{
		// slow's own degradation joins the file's; its within is the largest, the file's hold too
		{"union and largest", `  - name: slow
    target: api
    kind: latency
    latency: 200ms
    startTime: 45s
    duration: 10s
    degradation: {latency: ["p(99) < 1s"]}
    recovery: {within: 40s, hold: 5s}
`, []string{"[0 1] 10s–55s {Within:40s Hold:10s Window:5s} [errors: rate < 60%; latency: p(99) < 1s]"}},
		// a fault alone in its episode is judged by its own degradation only
		{"own alone", `  - name: late
    target: api
    kind: down
    startTime: 80s
    duration: 5s
    degradation: {errors: ["rate < 100%"]}
`, []string{
			"[0] 10s–40s {Within:20s Hold:10s Window:5s} [errors: rate < 60%]",
			"[1] 1m20s–1m25s {Within:20s Hold:10s Window:5s} [errors: rate < 100%]",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := mustParse(t, strings.Replace(chaos, "verify:", tt.faults+"verify:", 1)+
				"degradation:\n  errors: [\"rate < 60%\"]\nrecovery: {within: 20s}\n", Options{})
			var got []string
			for _, ep := range e.Episodes() {
				var ths []string
				for _, th := range ep.Degradation {
					ths = append(ths, th.Name())
				}
				got = append(got, fmt.Sprintf("%v %v–%v %+v [%s]", ep.Members, ep.Start, ep.End, ep.Recovery, strings.Join(ths, "; ")))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("episodes\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(tt.want, "\n\t"))
			}
		})
	}
}
