package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/chaosload/chaosload/faults"
	"github.com/chaosload/chaosload/load"
)

// kindProtocols lists, for fault kinds that act on a dependency directly
// rather than on the proxy's data path, the target protocols they work on:
// pool exhaustion holds real server connections (PostgreSQL through the
// target's dsn, Redis through its upstream address). Every other kind acts
// on the proxy's TCP data path and works with any protocol.
var kindProtocols = map[faults.Kind][]string{
	faults.PoolExhaustion: {"postgres", "redis"},
}

func (c *checker) faults() {
	names := map[string]int{}
	loadEnd := load.Span(c.e.Scenarios)
	for i := range c.e.Faults {
		f := &c.e.Faults[i]
		path := fmt.Sprintf("faults.%d", i)
		c.faultProblems(&f.Fault, path)
		if strings.Contains(f.Name, "${") {
			c.errorf(path+".name", "a name is not expanded at run time; write it without ${ (an environment ${NAME} is fine)")
		}
		if j, dup := names[f.Name]; dup && f.Name != "" {
			c.errorf(path+".name", "faults.%d is also called %q; give each fault its own name", j, f.Name)
		} else {
			names[f.Name] = i
		}
		c.faultTarget(&f.Fault, path)
		c.selection(f, path)
		c.faultJudging(f, path)
		if loadEnd > 0 && f.StartTime >= loadEnd {
			c.errorf(path+".startTime", "the fault starts at %s, but the load ends at %s; start it earlier or run the load longer", f.StartTime, loadEnd)
		}
	}
}

// faultProblems reports what the fault's own Validate finds, each at the
// field it names.
func (c *checker) faultProblems(f *faults.Fault, path string) {
	for _, pr := range f.Validate() {
		msg := pr.Msg
		if pr.Field == "kind" {
			msg = kindMessage(f.Kind, msg)
		}
		c.errorf(path+"."+pr.Field, "%s", msg)
	}
}

// kindMessage improves the faults package's message about a kind: a
// missing kind is "required", a typo gets a suggestion.
func kindMessage(k faults.Kind, msg string) string {
	kinds := make([]string, len(faults.Kinds))
	for i, k := range faults.Kinds {
		kinds[i] = string(k)
	}
	if k == "" {
		return "is required; valid kinds: " + strings.Join(kinds, ", ")
	}
	if s := didYouMean(string(k), kinds); s != "" {
		return msg + s
	}
	return msg
}

// faultTarget checks that the fault's target exists and suits its kind.
func (c *checker) faultTarget(f *faults.Fault, path string) {
	if f.Target == "" {
		return // faults.Validate reports it
	}
	if faults.IsHostKind(f.Kind) {
		c.processTarget(f, path)
		return
	}
	t := c.knownTarget(path+".target", f.Target)
	if t == nil {
		return
	}
	c.protocolFaultTarget(f, t, path)
	protos, ok := kindProtocols[f.Kind]
	switch {
	case !ok:
	case !containsString(protos, or(t.Protocol, DefaultProtocol)):
		c.errorf(path+".target", "%s needs a %s target; %q has protocol %s",
			f.Kind, strings.Join(protos, " or "), t.Name, or(t.Protocol, DefaultProtocol))
	case t.Protocol == "postgres" && t.DSN == "":
		c.needsDSN(t.Name, fmt.Sprintf("fault %q (%s)", f.Name, f.Kind))
	case t.Protocol == "redis" && f.Reserved != nil:
		c.errorf(path+".reserved", "Redis reserves no connection slots for administrators; remove reserved "+
			"(leaveFree: N keeps N slots free for anyone)")
	}
}

// knownTarget returns the target called name, or reports at path that there
// is none.
func (c *checker) knownTarget(path, name string) *Target {
	if t := c.e.Target(name); t != nil {
		return t
	}
	names := c.targetNames()
	c.errorf(path, "unknown target %q%s; valid targets: %s", name, didYouMean(name, names), listOr(names, "none (add a targets: section)"))
	return nil
}

func (c *checker) targetNames() []string {
	names := make([]string, len(c.e.Targets))
	for i, t := range c.e.Targets {
		names[i] = t.Name
	}
	return names
}

// needsDSN notes that target's dsn is required by what.
func (c *checker) needsDSN(target, what string) {
	if c.needDSN == nil {
		c.needDSN = map[string][]string{}
	}
	c.needDSN[target] = append(c.needDSN[target], what)
}

// dsnNeeds reports, once per target, the postgres targets that lack the dsn
// something uses.
func (c *checker) dsnNeeds() {
	for _, t := range c.e.Targets {
		users := c.needDSN[t.Name]
		if len(users) == 0 {
			continue
		}
		verb := "needs"
		if len(users) > 1 {
			verb = "need"
		}
		c.errorf("targets."+t.Name+".dsn", "is required: %s %s it to connect to the server directly; "+
			"e.g. dsn: \"postgres://postgres@${stack.postgres}/shop\"", strings.Join(users, " and "), verb)
	}
}

// observation checks that the load runs long enough after the last episode
// to judge its recovery: within + hold + window, and that the
// first fault leaves a baseline after the warm-up. Episodes before the last
// are followed by that observation by construction: a fault closer to the
// episode before it joins it.
func (c *checker) observation() {
	if len(c.e.Faults) == 0 || len(c.e.Thresholds) == 0 {
		return
	}
	c.baseline()
	loadEnd := load.Span(c.e.Scenarios)
	if !c.faultsEnd() || loadEnd <= 0 {
		return
	}
	eps := c.e.Episodes()
	ep := eps[len(eps)-1]
	r := ep.Recovery
	need := r.Observation()
	if loadEnd-ep.End >= need {
		return
	}
	c.errorf(c.recoveryPath(ep), "the load ends at %s, but recovery after the last episode (%s, ends at %s) is observed for "+
		"within %s + hold %s + window %s = %s, so the load must run until at least %s; %s",
		loadEnd, c.faultList(ep.Members), ep.End, r.Within, r.Hold, r.Window, need, ep.End+need, c.lengthen(ep.End+need))
}

// recoveryPath is where an episode's recovery comes from: the file's
// recovery, or the first of its faults whose own recovery: lengthens it.
func (c *checker) recoveryPath(ep Episode) string {
	file := c.e.recoveryOrDefault()
	for _, i := range ep.Members {
		if c.e.FaultRecovery(i).Largest(file) != file {
			return fmt.Sprintf("faults.%d.recovery", i)
		}
	}
	return "recovery.within"
}

// faultList names faults by index: `"a", "b"`.
func (c *checker) faultList(idx []int) string {
	names := make([]string, len(idx))
	for j, i := range idx {
		names[j] = strconv.Quote(c.e.Faults[i].Name)
	}
	if len(names) == 1 {
		return "fault " + names[0]
	}
	return "faults " + strings.Join(names, ", ")
}

// faultJudging checks a fault's own degradation and recovery like the
// file's.
func (c *checker) faultJudging(f *Fault, path string) {
	c.thresholdSet(path+".degradation", f.Degradation, false)
	if r := f.Recovery; r != nil {
		c.nonNegative(path+".recovery.within", r.Within)
		c.nonNegative(path+".recovery.hold", r.Hold)
		c.nonNegative(path+".recovery.window", r.Window)
	}
}

// faultsEnd reports whether every fault ends. A fault without an end makes
// recovery unobservable, which it reports.
func (c *checker) faultsEnd() bool {
	ok := true
	for i := range c.e.Faults {
		if _, bounded := c.e.Faults[i].End(); !bounded {
			c.errorf(fmt.Sprintf("faults.%d.duration", i), "the fault has no duration, so it lasts until the load ends and recovery cannot be observed; "+
				"give it one, e.g. duration: 30s")
			ok = false
		}
	}
	return ok
}

// baseline checks that no fault starts during the warm-up, so the
// thresholds are judged before the first fault.
func (c *checker) baseline() {
	warmup := c.e.WarmupOrDefault()
	for i := range c.e.Faults {
		path := fmt.Sprintf("faults.%d.startTime", i)
		if f := &c.e.Faults[i]; f.StartTime < warmup && !c.reported[path] {
			c.errorf(path, "the fault starts at %s, during the warm-up (%s), so there is "+
				"no baseline to judge; start it later or shorten warmup", f.StartTime, warmup)
		}
	}
}

// lengthen suggests how to make the load run until at least until.
func (c *checker) lengthen(until time.Duration) string {
	for i := range c.e.Scenarios {
		s := &c.e.Scenarios[i]
		if s.Span() == load.Span(c.e.Scenarios) && s.Executor != load.RampingVUs {
			return fmt.Sprintf("lengthen the load (e.g. --set scenarios.%s.duration=%s) or shorten recovery.within",
				s.Name, s.Duration+until-s.Span())
		}
	}
	return "lengthen the load or shorten recovery.within"
}

// processTarget checks that a process fault's target is a process of the
// stack: a service the file declares, or a role of the demo stack.
func (c *checker) processTarget(f *faults.Fault, path string) {
	names := c.e.StackProcesses()
	if containsString(names, f.Target) {
		return
	}
	hint := ""
	if c.e.Target(f.Target) != nil {
		hint = fmt.Sprintf(" (%q is a proxy target; %s acts on a process)", f.Target, f.Kind)
	}
	c.errorf(path+".target", "unknown stack process %q%s%s; valid: %s, or pid: N or process: NAME instead of target",
		f.Target, hint, didYouMean(f.Target, names), listOr(names, "none (declare stack.services or use stack: {name: demo})"))
}
