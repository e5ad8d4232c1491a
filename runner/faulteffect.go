package runner

import (
	"fmt"
	"slices"
	"strings"

	"github.com/chaosload/chaosload/slo"
)

// warnNoEffect warns about every applied fault that changed no traffic
// while in effect: it tested nothing.
func (r *run) warnNoEffect() {
	for _, f := range r.out.Faults {
		if f.Effect != nil && !f.Effect.Changed {
			r.out.Warnings = append(r.out.Warnings, fmt.Sprintf("fault %q (%s on %s) changed no traffic while in effect: %s",
				f.Name, f.Kind, f.Target, noEffectReason(f)))
		}
	}
}

// judgeFaultEffects turns each applied fault's expectEffect into a check
// named after the fault, in the fault phase of its episode: failed when the
// fault changed no traffic.
func (r *run) judgeFaultEffects(eps []slo.Episode) {
	episode := map[string]int{}
	for _, ep := range eps {
		for _, f := range ep.Faults {
			episode[f.Name] = ep.Number
		}
	}
	for _, f := range r.out.Faults {
		if f.Effect != nil && f.ExpectEffect {
			c := effectCheck(f)
			c.Episode = episode[f.Name]
			r.out.Checks = insertAfterPhase(r.out.Checks, c)
		}
	}
}

// insertAfterPhase inserts c after the last check of its phase and
// episode, or at the end when there is none.
func insertAfterPhase(checks []Check, c Check) []Check {
	at := len(checks)
	for i, x := range checks {
		if x.Phase == c.Phase && x.Episode == c.Episode {
			at = i + 1
		}
	}
	return slices.Insert(checks, at, c)
}

// effectCheck is the check of a fault's expectEffect.
func effectCheck(f FaultResult) Check {
	c := Check{Name: f.Name + ": expectEffect", Phase: slo.PhaseFault, Expression: "changed traffic",
		Passed: f.Effect.Changed, Observed: EffectSummary(f.Effect)}
	if !f.Effect.Changed {
		c.Observed = "no traffic changed: " + noEffectReason(f)
	}
	return c
}

// noEffectReason says why a fault may have changed nothing.
func noEffectReason(f FaultResult) string {
	e := f.Effect
	if e.Host != nil {
		return hostNoEffectReason(e.Host)
	}
	switch {
	case f.Kind == "pool-exhaustion" && e.ServerAdmitted > 0:
		return fmt.Sprintf("the server took all %d connections made through the proxy (the hold held %d slots)", e.ServerAdmitted, e.SlotsHeld)
	case f.Kind == "pool-exhaustion":
		return fmt.Sprintf("no connection through the proxy reached the full server (the hold held %d slots); "+
			"clients that keep their connections never notice: pair it with a reset of target %s", e.SlotsHeld, f.Target)
	case e.ConnsSelected == 0:
		return fmt.Sprintf("no connection went through target %s while it was in effect", f.Target)
	}
	return fmt.Sprintf("%d connections went through target %s, but none carried traffic the fault acts on", e.ConnsSelected, f.Target)
}

// EffectSummary says in a few words what a fault did to traffic, e.g.
// "412 connections refused by the server, 27 slots held"; "" for no effect.
func EffectSummary(e *FaultEffect) string {
	if e == nil {
		return ""
	}
	if e.Host != nil {
		return HostSummary(e.Host)
	}
	var parts []string
	add := func(n int64, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(e.ConnsRefused, "connections refused")
	add(e.ConnsReset, "connections reset")
	add(e.ConnsQueued, "connections queued")
	add(e.ConnsDelayed, "connections delayed")
	add(e.RequestsErrored, "requests errored")
	add(e.RequestsDelayed, "requests delayed")
	add(e.ChunksDelayed, "chunks delayed")
	add(e.BytesHeld, "bytes held")
	add(e.BytesDropped, "bytes dropped")
	add(int64(e.PacketsDropped), "packets dropped")
	add(e.ServerRefused, "connections refused by the server")
	add(e.ServerAdmitted, "connections admitted by the server")
	add(int64(e.SlotsHeld), "slots held")
	return strings.Join(parts, ", ")
}
