package main

// The exit codes of chaosload, in one place (docs/ci.md documents them, and
// a test keeps the two equal).
const (
	// exitOK: every expectation held.
	exitOK = 0
	// exitFailed: the run completed and an expectation failed (the gate).
	exitFailed = 1
	// exitInvalid: invalid experiment file, flags or settings; nothing ran.
	exitInvalid = 2
	// exitAborted: stopped by the experiment's own abort condition.
	exitAborted = 3
	// exitInfra: infrastructure error (unreachable target, port taken,
	// missing dependency, a fault that could not be applied or reverted).
	exitInfra = 4
	// exitInconclusive: the run completed, nothing failed both ways, but
	// the load generator's own lateness decides a named check, or it fell
	// short of the load it was to offer. Like an infrastructure error, the
	// run says nothing either way about the service.
	exitInconclusive = exitInfra
	// exitIncomplete: a distributed run lost a worker after the start:
	// part of the schedule was never offered, so the run judged is not the
	// one written; never a pass.
	exitIncomplete = 5
	// exitInterrupted: interrupted by the user; faults reverted, partial
	// results written.
	exitInterrupted = 130
)
