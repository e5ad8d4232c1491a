package config

import "strings"

// CheckAdvertised checks that the experiment can run distributed with its
// proxies on an address other machines reach (run --workers N --advertise
// HOST): the workers run its steps elsewhere, against the addresses the
// coordinator resolved. A target with a listen address of its own keeps
// it, and a file can only give a loopback one, which the workers cannot
// reach; a ${stack.NAME} in a scenario is an address of the stack on the
// coordinator's loopback, which the workers cannot reach either (a step
// goes through a target whose upstream is ${stack.NAME}). The error, when
// not nil, is of type Errors, one per problem, at its position.
func (e *Experiment) CheckAdvertised() error {
	var errs Errors
	for _, t := range e.Targets {
		path := "targets." + t.Name + ".listen"
		if e.written(path) {
			errs = append(errs, &Error{Pos: e.Pos(path), Msg: prefix(path, "target "+t.Name+" listens on "+t.Listen+
				", which the workers on other machines cannot reach; leave listen out, so the proxy listens on the advertised host")})
		}
	}
	e.eachRef(func(path string, pos Pos, t varToken, bad *SyntaxError) {
		section, _, ok := runtimeRef(t.Name)
		if bad != nil || !ok || section != "stack" || !strings.HasPrefix(path, "scenarios.") {
			return
		}
		errs = append(errs, &Error{Pos: pos, Msg: prefix(path, t.Raw+" is an address on the coordinator's loopback, "+
			"which the workers cannot reach; go through a target: targets: {NAME: {upstream: \""+t.Raw+"\"}} and ${targets.NAME} in the step")})
	})
	return errs.err()
}
