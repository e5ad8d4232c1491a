package supervise

// Shell returns the Path and Args that run script with /bin/sh -c, for a
// command written as one string (`command: "app --port 8080 2>&1"`) rather
// than an argument list. The shell's PID is the process's PID: when the
// script ends in one program, `exec` in front of it makes that program the
// process (and the one signals reach).
func Shell(script string) (path string, args []string) {
	return "/bin/sh", []string{"-c", script}
}
