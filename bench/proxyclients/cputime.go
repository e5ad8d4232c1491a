package main

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpu is CPU time (user + system) spent by the three parties of a run.
type cpu struct {
	proxy  time.Duration // this process: the proxies (everything else is a child)
	client time.Duration // the tools, counted when they have been waited for
	server time.Duration // the server process and its exited children (PostgreSQL's backends)
}

// snapshot reads the CPU time used so far by each party; serverPID is the
// server's process.
func snapshot(serverPID int) cpu {
	return cpu{proxy: rusage(syscall.RUSAGE_SELF), client: rusage(syscall.RUSAGE_CHILDREN), server: procCPU(serverPID)}
}

func (c cpu) minus(o cpu) cpu {
	return cpu{proxy: c.proxy - o.proxy, client: c.client - o.client, server: c.server - o.server}
}

func rusage(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// clockTick is the unit of /proc/PID/stat's times (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// procCPU is utime + stime + cutime + cstime of /proc/PID/stat: the process
// and its children that exited and were waited for.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]) // after "(comm)": field 3 is f[0]
	if len(f) < 15 {
		return 0
	}
	var ticks int64
	for _, i := range []int{11, 12, 13, 14} { // fields 14-17: utime stime cutime cstime
		v, _ := strconv.ParseInt(f[i], 10, 64)
		ticks += v
	}
	return time.Duration(ticks) * clockTick
}
