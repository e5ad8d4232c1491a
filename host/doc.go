// Package host carries out the faults that act on local processes and on
// the machine rather than on traffic: signals (kill), pausing a process tree
// (SIGSTOP until resumed), confining processes in a cgroup of chaosload's
// own with a CPU, memory or I/O limit (cgroup v1 or v2, detected), busy
// CPU cores and held memory (hog child processes), and filling a
// filesystem (a filler file).
//
// Nothing it does may outlive chaosload. Each change is undone by its
// revert; and before it is made, an undo entry (a short shell script) is
// written to a journal directory watched by a guard: a /bin/sh process in a
// session of its own that waits for chaosload's end of a pipe to close and
// then runs every entry still there. The pipe closes however chaosload
// ends, SIGKILL included, so a paused process is resumed, a cgroup emptied
// and removed, a filler file deleted, within moments of a crash. Should the
// guard die too, the next chaosload to use this package runs the entries of
// journals whose owner is gone (Sweep). Hogs are child processes with a
// parent-death signal: they die with chaosload.
//
// host knows nothing about experiments, targets or load: package faults
// turns fault specs into calls here.
package host
