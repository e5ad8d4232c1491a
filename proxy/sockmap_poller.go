package proxy

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Quiet reads: while the kernel forwards a link's bytes, the Go runtime must
// not wake for them.
//
// The kernel (6.x) signals readability on a socket in the sockmap after
// every segment its verdict program handled, redirected ones included: the
// psock calls the socket's data_ready once the segment left its receive
// queue. The Go runtime registers every socket in its epoll for EPOLLIN,
// EPOLLOUT and EPOLLRDHUP, edge-triggered; so each forwarded segment woke
// the thread that waits in epoll_wait, only to find nothing readable.
// Measured with 64 B requests on one connection: 1.5 context switches and
// about 20 µs of the proxy's CPU per request, for no work.
//
// So while a link is on the kernel path its source socket's registration
// in the runtime's epoll drops EPOLLIN (EPOLL_CTL_MOD with the runtime's
// own event data); epoll then filters the readability wake-ups out before
// they wake anyone. What the parked link still needs arrives another way:
// the end of the stream (EPOLLRDHUP) and errors (EPOLLERR, always
// reported) through the same registration, a fault through notify's read
// deadline, and the program's switch to FULL through the ring buffer (see
// sockmap.go). EPOLLOUT stays: the other link may be writing to the socket.
// When the link leaves the kernel path EPOLLIN comes back (MOD polls the
// socket again and reports what is readable by then), before it reads.
//
// The runtime keeps its epoll descriptor and the event data (its pollDesc
// tagged with a sequence number) to itself. The data is read from the
// socket's net.TCPConn (reflection: its internal/poll descriptor's runtime
// context) and packed as the runtime packs it; before the first change,
// once per process, the result is checked against what the kernel shows
// for the registration (/proc/self/fdinfo of the runtime's epoll), which
// also finds that descriptor. If anything differs (another Go version,
// another architecture) reads are never quieted: the proxy works as
// before, paying the wake-ups.

// epollGo is the runtime's registration: EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET.
const epollGo = unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET

// epollQuiet is the registration of a source socket on the kernel path.
const epollQuiet = unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET

// goEpoll is the runtime's epoll descriptor, found and checked once.
var goEpoll struct {
	once sync.Once
	fd   int
	err  error // why reads are not quieted
}

// goEpollErr says why reads are not quieted, once a link tried.
func goEpollErr() error {
	goEpoll.once.Do(func() { goEpoll.err = errors.New("no link has tried to quiet its reads yet") })
	return goEpoll.err
}

// quietReads is one socket's registration while its reads are quiet.
type quietReads struct {
	fd   int
	data uint64
}

// quiet drops EPOLLIN from the runtime's registration of tc. It returns
// nil when that is not possible here; restore undoes it.
func quiet(tc *net.TCPConn) *quietReads {
	raw, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	var q *quietReads
	_ = raw.Control(func(fd uintptr) {
		// Inside Control the descriptor is referenced: a concurrent Close
		// cannot release the runtime's pollDesc while it is read.
		data, ok := runtimeEventData(tc)
		if !ok {
			return
		}
		goEpoll.once.Do(func() { goEpoll.fd, goEpoll.err = findGoEpoll(int(fd), data) })
		if goEpoll.err != nil {
			return
		}
		if epollMod(int(fd), epollQuiet, data) == nil {
			q = &quietReads{fd: int(fd), data: data}
		}
	})
	return q
}

// restore gives the socket back its EPOLLIN. tc must still be open: the
// caller holds it (a link restores before its connection's release).
func (q *quietReads) restore(tc *net.TCPConn) {
	if q == nil {
		return
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return
	}
	_ = raw.Control(func(fd uintptr) { _ = epollMod(int(fd), epollGo, q.data) })
}

// epollMod changes fd's registration in the runtime's epoll.
func epollMod(fd int, events uint32, data uint64) error {
	ev := unix.EpollEvent{Events: events, Fd: int32(uint32(data)), Pad: int32(uint32(data >> 32))}
	return unix.EpollCtl(goEpoll.fd, unix.EPOLL_CTL_MOD, fd, &ev)
}

// runtimeEventData is the data the runtime gave tc's socket in its epoll:
// its pollDesc's address tagged with the pollDesc's fdseq
// (runtime.taggedPointerPack, Go 1.23 onwards, 64-bit Linux on amd64 and
// arm64).
func runtimeEventData(tc *net.TCPConn) (uint64, bool) {
	if runtime.GOOS != "linux" || (runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64") {
		return 0, false
	}
	v := reflect.ValueOf(tc).Elem()
	for _, name := range []string{"conn", "fd", "pfd", "pd", "runtimeCtx"} {
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return 0, false
			}
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct {
			return 0, false
		}
		v = v.FieldByName(name)
		if !v.IsValid() {
			return 0, false
		}
	}
	if v.Kind() != reflect.Uintptr || !v.CanAddr() || v.Uint() == 0 {
		return 0, false
	}
	// The runtime's pollDesc starts with link, fd and fdseq, pointer-sized;
	// it lives outside the Go heap and outlives the socket.
	pd := *(*unsafe.Pointer)(v.Addr().UnsafePointer())
	fdseq := (*[3]uintptr)(pd)[2]
	const addrBits, tagAlignBits = 49, 9
	const tagBits = 64 - addrBits + tagAlignBits
	return uint64(uintptr(pd))<<(tagBits-tagAlignBits) | uint64(fdseq)&(1<<tagBits-1), true
}

// findGoEpoll finds the epoll descriptor whose registration of fd is the
// runtime's, with the data computed for it.
func findGoEpoll(fd int, data uint64) (int, error) {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0, err
	}
	for _, e := range ents {
		if l, _ := os.Readlink("/proc/self/fd/" + e.Name()); l != "anon_inode:[eventpoll]" {
			continue
		}
		ep, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		events, got, found := epollEntry(ep, fd)
		switch {
		case !found:
			continue
		case got != data || events&epollGo != epollGo:
			return 0, fmt.Errorf("the runtime's epoll data for fd %d is %#x with events %#x, computed %#x", fd, got, events, data)
		}
		return ep, nil
	}
	return 0, fmt.Errorf("no epoll of this process registers fd %d", fd)
}

// epollEntry reads fd's registration in the epoll ep from
// /proc/self/fdinfo: "tfd: FD events: HEX data: HEX ...".
func epollEntry(ep, fd int) (events uint32, data uint64, found bool) {
	f, err := os.Open(fmt.Sprintf("/proc/self/fdinfo/%d", ep))
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	want := strconv.Itoa(fd)
	for sc.Scan() {
		w := strings.Fields(sc.Text())
		if len(w) < 6 || w[0] != "tfd:" || w[1] != want || w[2] != "events:" || w[4] != "data:" {
			continue
		}
		ev, err1 := strconv.ParseUint(w[3], 16, 32)
		d, err2 := strconv.ParseUint(w[5], 16, 64)
		return uint32(ev), d, err1 == nil && err2 == nil
	}
	return 0, 0, false
}
