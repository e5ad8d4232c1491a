package slo

import (
	"slices"
	"testing"
	"time"
)

func TestPhases(t *testing.T) {
	t.Parallel()
	recovered := func(d time.Duration) RecoveryResult { return RecoveryResult{Status: Recovered, Time: d} }
	late := RecoveryResult{Status: RecoveredLate, Time: 35 * s}
	never := RecoveryResult{Status: NotRecovered}
	fw := func(applied, reverted time.Duration) FaultWindow { return FaultWindow{"f", applied, reverted} }
	tests := []struct {
		name string
		tl   Timeline
		rec  RecoveryResult
		want []Phase
	}{
		// no faults: everything after the warm-up is baseline
		{"no faults", Timeline{5 * s, 60 * s, nil}, RecoveryResult{},
			[]Phase{{PhaseWarmup, 0, 5 * s}, {PhaseBaseline, 5 * s, 60 * s}}},
		// no faults, no warm-up
		{"no warm-up", Timeline{0, 60 * s, nil}, RecoveryResult{},
			[]Phase{{PhaseBaseline, 0, 60 * s}}},
		// one fault, recovered in 3.5 s
		{"one fault", Timeline{5 * s, 120 * s, []FaultWindow{fw(40*s, 70*s)}}, recovered(3500 * ms),
			[]Phase{{PhaseWarmup, 0, 5 * s}, {PhaseBaseline, 5 * s, 40 * s}, {PhaseFault, 40 * s, 70 * s},
				{PhaseRecovery, 70 * s, 73500 * ms}, {PhaseSteady, 73500 * ms, 120 * s}}},
		// DESIGN §3: exhaustion 40–70 s plus a one-shot reset at 40 s
		{"with one-shot", Timeline{5 * s, 120 * s, []FaultWindow{fw(40*s, 70*s), fw(40*s, 40*s)}}, recovered(0),
			[]Phase{{PhaseWarmup, 0, 5 * s}, {PhaseBaseline, 5 * s, 40 * s}, {PhaseFault, 40 * s, 70 * s},
				{PhaseRecovery, 70 * s, 70 * s}, {PhaseSteady, 70 * s, 120 * s}}},
		// overlapping faults: from the first applied to the last reverted
		{"overlapping", Timeline{5 * s, 120 * s, []FaultWindow{fw(30*s, 60*s), fw(45*s, 50*s), fw(40*s, 65*s)}}, recovered(s),
			[]Phase{{PhaseWarmup, 0, 5 * s}, {PhaseBaseline, 5 * s, 30 * s}, {PhaseFault, 30 * s, 65 * s},
				{PhaseRecovery, 65 * s, 66 * s}, {PhaseSteady, 66 * s, 120 * s}}},
		// sequential faults with a gap: the gap is part of the fault phase
		{"gap", Timeline{5 * s, 120 * s, []FaultWindow{fw(20*s, 30*s), fw(50*s, 60*s)}}, recovered(2 * s),
			[]Phase{{PhaseWarmup, 0, 5 * s}, {PhaseBaseline, 5 * s, 20 * s}, {PhaseFault, 20 * s, 60 * s},
				{PhaseRecovery, 60 * s, 62 * s}, {PhaseSteady, 62 * s, 120 * s}}},
		// one-shot fault only: an empty fault phase
		{"one-shot only", Timeline{5 * s, 120 * s, []FaultWindow{fw(40*s, 40*s)}}, recovered(4 * s),
			[]Phase{{PhaseWarmup, 0, 5 * s}, {PhaseBaseline, 5 * s, 40 * s}, {PhaseFault, 40 * s, 40 * s},
				{PhaseRecovery, 40 * s, 44 * s}, {PhaseSteady, 44 * s, 120 * s}}},
		// a fault during the warm-up cuts it short; no baseline
		{"fault in warm-up", Timeline{10 * s, 120 * s, []FaultWindow{fw(3*s, 20*s)}}, recovered(s),
			[]Phase{{PhaseWarmup, 0, 3 * s}, {PhaseFault, 3 * s, 20 * s},
				{PhaseRecovery, 20 * s, 21 * s}, {PhaseSteady, 21 * s, 120 * s}}},
		// recovered after the bound: still a recovery point, and a steady phase
		{"late", Timeline{5 * s, 120 * s, []FaultWindow{fw(40*s, 70*s)}}, late,
			[]Phase{{PhaseWarmup, 0, 5 * s}, {PhaseBaseline, 5 * s, 40 * s}, {PhaseFault, 40 * s, 70 * s},
				{PhaseRecovery, 70 * s, 105 * s}, {PhaseSteady, 105 * s, 120 * s}}},
		// never recovered: recovery runs to the end, no steady phase
		{"never", Timeline{5 * s, 120 * s, []FaultWindow{fw(40*s, 70*s)}}, never,
			[]Phase{{PhaseWarmup, 0, 5 * s}, {PhaseBaseline, 5 * s, 40 * s}, {PhaseFault, 40 * s, 70 * s},
				{PhaseRecovery, 70 * s, 120 * s}}},
		// a revert that completed after the load ended (an abort): clamped
		{"revert after load end", Timeline{5 * s, 50 * s, []FaultWindow{fw(40*s, 55*s)}}, never,
			[]Phase{{PhaseWarmup, 0, 5 * s}, {PhaseBaseline, 5 * s, 40 * s}, {PhaseFault, 40 * s, 50 * s},
				{PhaseRecovery, 50 * s, 50 * s}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.tl.Phases(tt.rec); !slices.Equal(got, tt.want) {
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
