package load

import "time"

// vuChange is a point of a ramping-vus plan: from At (an offset from the
// scenario's start) on, Count VUs run.
type vuChange struct {
	At    time.Duration
	Count int
}

// rampPlan turns ramping-vus stages into the instants at which the VU count
// changes. Within a stage going from a to b VUs over d, starting at t₀, the
// count follows the line rounded toward a:
//
//	count(t) = a + sign(b−a) · ⌊ |b−a| · (t−t₀) / d ⌋
//
// so the j-th change (j = 1…|b−a|) falls at t₀ + ⌈ j·d / |b−a| ⌉ and the
// stage ends exactly on b. A stage of zero duration jumps to b at t₀.
// Changes at or after the end of the last stage are left out: no iteration
// starts then.
func rampPlan(startVUs int, stages []Stage) []vuChange {
	var plan []vuChange
	var t0 time.Duration
	from := startVUs
	for _, st := range stages {
		plan = appendStage(plan, t0, st, from)
		t0 += st.Duration
		from = st.Target
	}
	end := len(plan)
	for end > 0 && plan[end-1].At >= t0 {
		end--
	}
	return plan[:end]
}

// appendStage appends the changes of one stage starting at t0 from `from`
// VUs.
func appendStage(plan []vuChange, t0 time.Duration, st Stage, from int) []vuChange {
	n := st.Target - from
	step := 1
	if n < 0 {
		n, step = -n, -1
	}
	if n == 0 {
		return plan
	}
	if st.Duration <= 0 {
		return append(plan, vuChange{t0, st.Target})
	}
	for j := 1; j <= n; j++ {
		at := mulDivCeil(int64(j), int64(st.Duration), int64(n))
		plan = append(plan, vuChange{t0 + at, from + j*step})
	}
	return plan
}
