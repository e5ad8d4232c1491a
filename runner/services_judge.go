package runner

import (
	"fmt"
	"strings"
	"time"

	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/supervise"
)

// judgeServices turns what happened to each supervised process of the
// stack (the file's services, the demo service) into a check: it passes
// when the process ran throughout, or when every exit was caused by a kill
// fault and followed by a restart that became ready. A service that stays
// down, or exits by itself, fails the run.
func (r *run) judgeServices() {
	if r.m == nil {
		return
	}
	for _, name := range r.supervisedNames() {
		sup := r.supervisor(name)
		if sup == nil {
			continue
		}
		exits := r.serviceExits(name, sup.Restarts())
		c := Check{Name: name + ": stays up", Phase: "run", Expression: "running, or restarted after a kill fault",
			Passed: true, Observed: "ran throughout"}
		var notes []string
		for _, e := range exits {
			notes = append(notes, exitNote(e))
			if e.Fault == "" || e.ReadyAfterS == nil {
				c.Passed = false
			}
		}
		if len(notes) > 0 {
			c.Observed = strings.Join(notes, "; ")
		}
		r.out.Checks = append(r.out.Checks, c)
		r.setServiceExits(name, exits, sup, c.Passed)
	}
}

// supervisedNames lists the demo service (when supervised) and the file's
// services in start order.
func (r *run) supervisedNames() []string {
	var names []string
	if ss, ok := r.stack.(SupervisedStack); ok && ss.Supervisor("service") != nil {
		names = append(names, "service")
	}
	r.svc.mu.Lock()
	defer r.svc.mu.Unlock()
	return append(names, r.svc.order...)
}

// serviceExits are a process's exits from the start of the load on, each
// blamed on the kill fault on it applied last before it, if any.
func (r *run) serviceExits(name string, restarts []supervise.Restart) []ServiceExit {
	var out []ServiceExit
	for _, rs := range restarts {
		at := r.offset(rs.ExitedAt)
		if at < 0 {
			continue
		}
		e := ServiceExit{AtS: seconds(at), PID: rs.OldPID, Status: exitStatus(rs.ExitErr), NewPID: rs.NewPID}
		if !rs.ReadyAt.IsZero() {
			v := seconds(rs.ReadyAt.Sub(rs.ExitedAt))
			e.ReadyAfterS = &v
		}
		for _, rec := range r.m.records {
			if rec.Kind == "kill" && rec.Target == name && rec.WasApplied && rec.Applied <= at+time.Second {
				e.Fault = rec.Name
			}
		}
		out = append(out, e)
	}
	return out
}

// exitStatus says how a process ended: "exit status 1", "killed by SIGKILL".
func exitStatus(err error) string {
	if sig, ok := supervise.Signaled(err); ok {
		return "killed by " + sigName(sig.String(), int(sig))
	}
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

func sigName(desc string, n int) string {
	for name, sig := range faults.Signals {
		if int(sig) == n {
			return name
		}
	}
	return desc
}

// exitNote renders one exit for a check's Observed.
func exitNote(e ServiceExit) string {
	s := fmt.Sprintf("pid %d %s at %.1fs", e.PID, e.Status, e.AtS)
	if e.Fault != "" {
		s += fmt.Sprintf(" (fault %q)", e.Fault)
	} else {
		s += " (no fault caused it)"
	}
	switch {
	case e.ReadyAfterS != nil:
		s += fmt.Sprintf(", restarted as pid %d, ready %.2fs later", e.NewPID, *e.ReadyAfterS)
	case e.NewPID != 0:
		s += fmt.Sprintf(", restarted as pid %d, never ready", e.NewPID)
	default:
		s += ", not restarted"
	}
	return s
}

// setServiceExits records the exits in the outcome's stack info, with the
// log's tail when the service failed, and fills each kill fault's restart.
func (r *run) setServiceExits(name string, exits []ServiceExit, sup *supervise.Supervisor, passed bool) {
	for i := range r.out.Faults {
		f := &r.out.Faults[i]
		if f.Kind != "kill" || f.Target != name || f.Effect == nil || f.Effect.Host == nil {
			continue
		}
		for _, e := range exits {
			if e.Fault == f.Name {
				f.Effect.Host.NewPID = e.NewPID
				if e.ReadyAfterS != nil {
					f.Effect.Host.ReadyAfterS = *e.ReadyAfterS
				}
			}
		}
	}
	if r.out.Stack == nil {
		return
	}
	for i := range r.out.Stack.Services {
		s := &r.out.Stack.Services[i]
		if s.Name == name {
			s.Exits = exits
			if !passed {
				s.LogTail = sup.Process().Tail()
			}
		}
	}
}
