// Package supervise runs the local processes chaosload starts itself — the
// throwaway PostgreSQL and Redis of the demo stack, the demo service — and
// is the launcher later users' own services (`stack.services`) build on.
//
// It owns one child process's life, from start to reaped:
//
//	Start ─▶ own process group, parent-death signal, output → log file
//	  │        one goroutine waits for it (Done, ExitErr)
//	  ├─ WaitReady(Check) / WaitLog(regexp): ready, exited (with the log's
//	  │        tail), or not ready in time
//	  └─ Stop: StopSignal, StopGrace, then SIGKILL to the whole group
//
// Why each part: its own process group keeps a Ctrl-C at the terminal away
// from it (chaosload receives the signal and stops its children in order)
// and gives Stop one group to kill; the parent-death signal (Linux
// PR_SET_PDEATHSIG, set after any credential change, so it holds for a
// server run as an unprivileged user) ends it when chaosload dies without
// stopping it, even by SIGKILL; writing its output straight to a file means
// no copying goroutine outlives it and the log survives it, for errors.
//
// The parent-death signal reaches the direct child only: a process that
// forks workers must end them itself when it dies (PostgreSQL's backends
// watch their postmaster); KillLeftovers ends what is left of a group whose
// leader has exited.
//
// A Supervisor keeps one process running under a restart policy (never,
// on-failure, always, with a doubling backoff): the demo service and the
// services an experiment declares (`stack.services`) run under one. Shell
// runs a command written as one string. supervise does not choose ports or
// know what the processes are; callers do.
package supervise
