package slo

import (
	"slices"
	"testing"
	"time"
)

// P is a phase, for tables.
func P(name string, start, end time.Duration, episode int) Phase {
	return Phase{name, start, end, episode}
}

func TestPhases(t *testing.T) {
	t.Parallel()
	recovered := func(d time.Duration) RecoveryResult { return RecoveryResult{Status: Recovered, Time: d} }
	late := RecoveryResult{Status: RecoveredLate, Time: 35 * s}
	never := RecoveryResult{Status: NotRecovered}
	fw := func(applied, reverted time.Duration) FaultWindow { return FaultWindow{"f", applied, reverted} }
	const (
		W, B, F, G, R, S = PhaseWarmup, PhaseBaseline, PhaseFault, PhaseGap, PhaseRecovery, PhaseSteady
	)
	tests := []struct {
		name string
		tl   Timeline
		recs []RecoveryResult // per episode
		want []Phase
	}{
		// no faults: everything after the warm-up is baseline
		{"no faults", Timeline{5 * s, 60 * s, nil}, nil,
			[]Phase{P(W, 0, 5*s, 0), P(B, 5*s, 60*s, 0)}},
		// no faults, no warm-up
		{"no warm-up", Timeline{0, 60 * s, nil}, nil,
			[]Phase{P(B, 0, 60*s, 0)}},
		// one fault, recovered in 3.5 s
		{"one fault", Timeline{5 * s, 120 * s, []FaultWindow{fw(40*s, 70*s)}}, []RecoveryResult{recovered(3500 * ms)},
			[]Phase{P(W, 0, 5*s, 0), P(B, 5*s, 40*s, 0), P(F, 40*s, 70*s, 1), P(R, 70*s, 73500*ms, 1), P(S, 73500*ms, 120*s, 1)}},
		// db-exhaustion: exhaustion 40–70 s plus a one-shot reset at 40 s
		{"with one-shot", Timeline{5 * s, 120 * s, []FaultWindow{fw(40*s, 70*s), fw(40*s, 40*s)}}, []RecoveryResult{recovered(0)},
			[]Phase{P(W, 0, 5*s, 0), P(B, 5*s, 40*s, 0), P(F, 40*s, 70*s, 1), P(R, 70*s, 70*s, 1), P(S, 70*s, 120*s, 1)}},
		// overlapping faults: one fault phase, from the first applied to the last reverted
		{"overlapping", Timeline{5 * s, 120 * s, []FaultWindow{fw(30*s, 60*s), fw(45*s, 50*s), fw(40*s, 65*s)}}, []RecoveryResult{recovered(s)},
			[]Phase{P(W, 0, 5*s, 0), P(B, 5*s, 30*s, 0), P(F, 30*s, 65*s, 1), P(R, 65*s, 66*s, 1), P(S, 66*s, 120*s, 1)}},
		// faults 20 s apart cascade (closer than 45 s): one episode whose gap is neither fault nor steady
		{"cascade", Timeline{5 * s, 120 * s, []FaultWindow{fw(20*s, 30*s), fw(50*s, 60*s)}}, []RecoveryResult{recovered(2 * s)},
			[]Phase{P(W, 0, 5*s, 0), P(B, 5*s, 20*s, 0), P(F, 20*s, 30*s, 1), P(G, 30*s, 50*s, 1), P(F, 50*s, 60*s, 1),
				P(R, 60*s, 62*s, 1), P(S, 62*s, 120*s, 1)}},
		// faults 60 s apart: two episodes, each with its recovery and steady phase
		{"two episodes", Timeline{5 * s, 180 * s, []FaultWindow{fw(20*s, 30*s), fw(90*s, 100*s)}}, []RecoveryResult{recovered(4 * s), recovered(s)},
			[]Phase{P(W, 0, 5*s, 0), P(B, 5*s, 20*s, 0), P(F, 20*s, 30*s, 1), P(R, 30*s, 34*s, 1), P(S, 34*s, 90*s, 1),
				P(F, 90*s, 100*s, 2), P(R, 100*s, 101*s, 2), P(S, 101*s, 180*s, 2)}},
		// an episode that never recovered: its recovery runs to the next episode
		{"first never recovered", Timeline{5 * s, 180 * s, []FaultWindow{fw(20*s, 30*s), fw(90*s, 100*s)}}, []RecoveryResult{never, recovered(s)},
			[]Phase{P(W, 0, 5*s, 0), P(B, 5*s, 20*s, 0), P(F, 20*s, 30*s, 1), P(R, 30*s, 90*s, 1),
				P(F, 90*s, 100*s, 2), P(R, 100*s, 101*s, 2), P(S, 101*s, 180*s, 2)}},
		// one-shot faults before a held one: a gap from the first shot
		{"shots then held", Timeline{5 * s, 120 * s, []FaultWindow{fw(30*s, 30*s), fw(35*s, 35*s), fw(40*s, 70*s)}}, []RecoveryResult{recovered(0)},
			[]Phase{P(W, 0, 5*s, 0), P(B, 5*s, 30*s, 0), P(G, 30*s, 40*s, 1), P(F, 40*s, 70*s, 1), P(R, 70*s, 70*s, 1), P(S, 70*s, 120*s, 1)}},
		// one-shot fault only: an empty fault phase
		{"one-shot only", Timeline{5 * s, 120 * s, []FaultWindow{fw(40*s, 40*s)}}, []RecoveryResult{recovered(4 * s)},
			[]Phase{P(W, 0, 5*s, 0), P(B, 5*s, 40*s, 0), P(F, 40*s, 40*s, 1), P(R, 40*s, 44*s, 1), P(S, 44*s, 120*s, 1)}},
		// one-shot faults only, cascading: an empty fault phase, then the gap to the last shot
		{"one-shots", Timeline{5 * s, 120 * s, []FaultWindow{fw(40*s, 40*s), fw(50*s, 50*s)}}, []RecoveryResult{recovered(s)},
			[]Phase{P(W, 0, 5*s, 0), P(B, 5*s, 40*s, 0), P(F, 40*s, 40*s, 1), P(G, 40*s, 50*s, 1), P(R, 50*s, 51*s, 1), P(S, 51*s, 120*s, 1)}},
		// a fault during the warm-up cuts it short; no baseline
		{"fault in warm-up", Timeline{10 * s, 120 * s, []FaultWindow{fw(3*s, 20*s)}}, []RecoveryResult{recovered(s)},
			[]Phase{P(W, 0, 3*s, 0), P(F, 3*s, 20*s, 1), P(R, 20*s, 21*s, 1), P(S, 21*s, 120*s, 1)}},
		// recovered after the bound: still a recovery point, and a steady phase
		{"late", Timeline{5 * s, 120 * s, []FaultWindow{fw(40*s, 70*s)}}, []RecoveryResult{late},
			[]Phase{P(W, 0, 5*s, 0), P(B, 5*s, 40*s, 0), P(F, 40*s, 70*s, 1), P(R, 70*s, 105*s, 1), P(S, 105*s, 120*s, 1)}},
		// never recovered: recovery runs to the end, no steady phase
		{"never", Timeline{5 * s, 120 * s, []FaultWindow{fw(40*s, 70*s)}}, []RecoveryResult{never},
			[]Phase{P(W, 0, 5*s, 0), P(B, 5*s, 40*s, 0), P(F, 40*s, 70*s, 1), P(R, 70*s, 120*s, 1)}},
		// a revert that completed after the load ended (an abort): clamped
		{"revert after load end", Timeline{5 * s, 50 * s, []FaultWindow{fw(40*s, 55*s)}}, []RecoveryResult{never},
			[]Phase{P(W, 0, 5*s, 0), P(B, 5*s, 40*s, 0), P(F, 40*s, 50*s, 1), P(R, 50*s, 50*s, 1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			eps := Spec{Timeline: tt.tl}.episodes()
			if len(eps) != len(tt.recs) {
				t.Fatalf("%d episodes, want %d", len(eps), len(tt.recs))
			}
			for k := range eps {
				eps[k].Recovery = tt.recs[k]
			}
			if got := tt.tl.Phases(eps); !slices.Equal(got, tt.want) {
				t.Errorf("phases\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestFaultSpan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		faults     []FaultWindow
		start, end time.Duration
		ok         bool
	}{
		// none
		{"none", nil, 0, 0, false},
		// a fault listed later may start earlier and end later
		{"unordered", []FaultWindow{{"a", 40 * s, 50 * s}, {"b", 10 * s, 80 * s}, {"c", 20 * s, 30 * s}}, 10 * s, 80 * s, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start, end, ok := Timeline{Faults: tt.faults}.FaultSpan()
			if start != tt.start || end != tt.end || ok != tt.ok {
				t.Errorf("FaultSpan() = %v, %v, %v; want %v, %v, %v", start, end, ok, tt.start, tt.end, tt.ok)
			}
		})
	}
}
