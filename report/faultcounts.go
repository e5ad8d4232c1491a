package report

import (
	"fmt"
	"strings"

	"github.com/chaosload/chaosload/runner"
)

// faultCounts describes what a fault did to traffic ("412 connections
// refused by the server, 27 slots held"), says when it changed nothing or
// took effect late, "" when there is nothing to say. A result saved before
// faults had an effect gives its protocol-aware counts.
func faultCounts(f runner.FaultResult) string {
	var parts []string
	switch e := f.Effect; {
	case e != nil && e.Changed:
		parts = append(parts, runner.EffectSummary(e))
	case e != nil:
		none := "no effect on traffic"
		if e.SlotsHeld > 0 {
			none += fmt.Sprintf(" (%d slots held)", e.SlotsHeld)
		}
		parts = append(parts, none)
	default:
		if f.Injected > 0 {
			parts = append(parts, fmt.Sprintf("%d errors injected", f.Injected))
		}
		if f.Delayed > 0 {
			parts = append(parts, fmt.Sprintf("%d requests delayed", f.Delayed))
		}
	}
	if f.Uninspectable > 0 {
		parts = append(parts, fmt.Sprintf("%d connections not inspectable", f.Uninspectable))
	}
	if f.LateS > 0 {
		parts = append(parts, fmt.Sprintf("took effect %.1fs late", f.LateS))
	}
	if f.ShortS > 0 {
		parts = append(parts, fmt.Sprintf("in effect %.1fs less than its duration", f.ShortS))
	}
	return strings.Join(parts, ", ")
}
