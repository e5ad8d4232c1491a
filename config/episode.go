package config

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/chaosload/chaosload/load"
)

// An episode is what a run is judged per (a fault phase, a recovery and a
// steady phase each): a maximal set of faults that overlap, or that follow
// each other closer than the recovery observation (within + hold + window)
// of the faults before them. Such a
// cascade leaves the service no room to show it recovered in between, so its
// faults are judged together: one fault phase (the union of their windows),
// one recovery after the last of them ends, one steady phase after that.
//
// An episode of several faults is judged by the union of their degradation
// (each fault's own `degradation:`, else the file's) and by the field-wise
// largest of their recovery settings: a cascade recovers no faster than its
// slowest part.
//
//	fault A  ████████                                  one episode: B starts
//	fault B              ██████                        less than A's observation
//	fault C                                    ████    after A ends; C later
//	         ├─── episode 1 ──────┤  observation       ├ episode 2
//
// GroupEpisodes forms episodes from faults with known windows: the file's
// plan (Experiment.Episodes, what validate explains) or the windows a run
// measured (package slo).

// EpisodeFault is one fault as episodes are formed from it.
type EpisodeFault struct {
	Name string
	// Start and End are when the fault takes effect and when it stops; a
	// one-shot fault has Start == End.
	Start, End time.Duration
	// Recovery is what the fault asks for (FaultRecovery), defaults applied.
	Recovery Recovery
}

// EpisodeGroup is one episode formed by GroupEpisodes.
type EpisodeGroup struct {
	// Members index the faults grouped, by start (ties in input order).
	Members []int
	// Start is the first member's start, End the latest end.
	Start, End time.Duration
	// Recovery is the field-wise largest of the members'.
	Recovery Recovery
	// Joins say why each member after the first belongs to the episode.
	Joins []Join
}

// Join is why a fault joined an episode: it started before the episode so
// far had ended (Last, the member ending last, was still in effect), or less
// than the episode's recovery observation after that end.
type Join struct {
	Fault, Last    string
	Start, LastEnd time.Duration
	// Recovery is the episode's so far, whose observation was not over.
	Recovery Recovery
}

// String says it as validate does: `faults "a" and "b" form one episode:
// "b" starts 12s after "a" ends, closer than the recovery observation
// within+hold+window = 45s`.
func (j Join) String() string {
	head := fmt.Sprintf("faults %q and %q form one episode: ", j.Last, j.Fault)
	switch {
	case j.Start < j.LastEnd:
		return head + fmt.Sprintf("%q starts at %s, while %q is in effect (until %s)", j.Fault, showTime(j.Start), j.Last, showTime(j.LastEnd))
	case j.Start == j.LastEnd:
		return head + fmt.Sprintf("%q starts at %s, as %q ends", j.Fault, showTime(j.Start), j.Last)
	}
	r := j.Recovery
	return head + fmt.Sprintf("%q starts %s after %q ends, closer than the recovery observation within+hold+window = %s (%s + %s + %s), "+
		"so the service has no time to show it recovered in between",
		j.Fault, showTime(j.Start-j.LastEnd), j.Last, showTime(r.Observation()), showTime(r.Within), showTime(r.Hold), showTime(r.Window))
}

// showTime renders a duration to the millisecond: "45s", "12.25s".
func showTime(d time.Duration) string { return d.Round(time.Millisecond).String() }

// GroupEpisodes groups faults into episodes, in time order. A fault joins the
// episode before it when it starts before that episode's end plus the
// observation of the episode's recovery (so far); overlapping faults always
// share an episode.
func GroupEpisodes(fs []EpisodeFault) []EpisodeGroup {
	order := make([]int, len(fs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(fs[a].Start, fs[b].Start) })
	var out []EpisodeGroup
	last := 0 // the member of the current episode that ends last
	for _, i := range order {
		f := fs[i]
		if n := len(out); n > 0 && f.Start < out[n-1].End+out[n-1].Recovery.Observation() {
			g := &out[n-1]
			g.Joins = append(g.Joins, Join{Fault: f.Name, Last: fs[last].Name, Start: f.Start, LastEnd: g.End, Recovery: g.Recovery})
			g.Members = append(g.Members, i)
			g.Recovery = g.Recovery.Largest(f.Recovery)
			if f.End > g.End {
				g.End, last = f.End, i
			}
			continue
		}
		out = append(out, EpisodeGroup{Members: []int{i}, Start: f.Start, End: max(f.End, f.Start), Recovery: f.Recovery})
		last = i
	}
	return out
}

// Episode is one planned episode of the experiment.
type Episode struct {
	EpisodeGroup
	// Degradation is what its fault phase is judged against: the union of
	// its faults' (FaultDegradation).
	Degradation Thresholds
}

// Episodes groups the file's faults into episodes by their planned
// windows (startTime, startTime + duration). A fault without a duration
// lasts until the load ends.
func (e *Experiment) Episodes() []Episode {
	fs := make([]EpisodeFault, len(e.Faults))
	for i := range e.Faults {
		f := &e.Faults[i]
		end, bounded := f.End()
		if !bounded {
			end = max(load.Span(e.Scenarios), f.StartTime)
		}
		fs[i] = EpisodeFault{Name: f.Name, Start: f.StartTime, End: end, Recovery: e.FaultRecovery(i)}
	}
	groups := GroupEpisodes(fs)
	out := make([]Episode, len(groups))
	for k, g := range groups {
		sets := make([]Thresholds, len(g.Members))
		for j, i := range g.Members {
			sets[j] = e.FaultDegradation(i)
		}
		out[k] = Episode{EpisodeGroup: g, Degradation: UnionThresholds(sets...)}
	}
	return out
}
