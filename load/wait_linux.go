package load

import (
	"syscall"
	"time"
	"unsafe"
)

// canSleepPrecisely: Linux has clock_nanosleep with TIMER_ABSTIME.
const canSleepPrecisely = true

// timerAbstime is clock_nanosleep's TIMER_ABSTIME flag.
const timerAbstime = 1

// sleepUntil blocks the calling thread in the kernel until the clock
// reaches at: clock_nanosleep on CLOCK_MONOTONIC with an absolute deadline,
// so a signal (EINTR, the runtime's preemption) resumes the same deadline
// and the wake is not rounded to the netpoller's millisecond.
func sleepUntil(c Clock, at time.Duration) {
	d := at - c.Now()
	if d <= 0 {
		return
	}
	var now syscall.Timespec
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, uintptr(clockMonotonic), uintptr(unsafe.Pointer(&now)), 0); e != 0 {
		time.Sleep(d)
		return
	}
	ts := syscall.NsecToTimespec(now.Nano() + int64(d))
	for {
		_, _, e := syscall.Syscall6(syscall.SYS_CLOCK_NANOSLEEP, uintptr(clockMonotonic), timerAbstime,
			uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
		if e != syscall.EINTR {
			return
		}
	}
}

// clockMonotonic is CLOCK_MONOTONIC, the clock Go's monotonic time reads.
const clockMonotonic = 1
